/* hydranet-cli init — a freshly initialised model, as the reference's `init` writes one. */
#include <getopt.h>

#include "checkpoint.h"
#include "cli.h"

int
cli_init (int argc, char **argv)
{
  static const struct option options[] = {
    { "out", required_argument, NULL, 'o' },
    { "seed", required_argument, NULL, 's' },
    { "backbone", required_argument, NULL, 'b' },
    { "size", required_argument, NULL, 'z' },
    { 0 },
  };
  const char *out = NULL;
  unsigned long long seed = 0;
  HnBackbone backbone = BACKBONE_RESNET18;
  int size = CHECKPOINT_DEFAULT_SIZE, opt;
  while ((opt = getopt_long (argc, argv, "o:s:b:z:", options, NULL)) != -1)
    switch (opt)
      {
      case 'o':
        out = optarg;
        break;
      case 's':
        if (!cli_parse_u64 (optarg, &seed))
          return cli_usage_error ("init", "--seed wants a non-negative integer, not '%s'", optarg);
        break;
      case 'b':
        if (!backbone_from_name (optarg, &backbone))
          return cli_usage_error ("init", "--backbone is resnet18 or resnet34, not '%s'", optarg);
        break;
      case 'z':
        if (!cli_parse_int (optarg, MODEL_MIN_SIZE, MODEL_MAX_SIZE, &size))
          return cli_usage_error ("init", "--size wants a number from %d to %d, not '%s'",
                                  MODEL_MIN_SIZE, MODEL_MAX_SIZE, optarg);
        break;
      default:
        return cli_usage_error ("init", "unknown option");
      }
  if (out == NULL)
    return cli_usage_error ("init", "--out is required");
  if (optind < argc)
    return cli_usage_error ("init", "unexpected argument '%s'", argv[optind]);

  HnModel *model = model_new (backbone, seed);
  if (model == NULL)
    return cli_fail ("out of memory");
  HnError err;
  bool ok = checkpoint_save (model, size, out, NULL, 0, &err);
  model_free (model);
  if (!ok)
    return cli_fail ("%s", err.message);
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddItemToObject (o, "file", cli_json_string (out));
  cJSON_AddStringToObject (o, "backbone", backbone_name (backbone));
  cJSON_AddNumberToObject (o, "input_size", size);
  cJSON_AddNumberToObject (o, "seed", (double) seed);
  cli_print_json (o);
  return EXIT_OK;
}
