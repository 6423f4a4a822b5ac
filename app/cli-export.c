/* hydranet-cli export-pytorch — a run as a PyTorch project that trains under torchrun
 * (engine/export/export.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "export.h"

static const char help[] =
  "Usage: hydranet-cli export-pytorch (--run DIR | --model M) --out DIR\n"
  "\n"
  "Writes a folder that trains the run's recipe with PyTorch (>= 1.13, torchvision) on one\n"
  "process or many (torchrun, DistributedDataParallel), on CPUs or GPUs: train.py, the model\n"
  "and the studio's recipe in Python, run.json (the settings, and every live change by the\n"
  "images seen when it was made, replayed at the same point), the run's weights as\n"
  "init.safetensors, export_onnx.py, and a README with the commands.\n"
  "\n"
  "  --run DIR    a run folder (hydranet-cli runs lists them)\n"
  "  --model M    weights to start from; alone, a model outside a run folder exports the\n"
  "               recipe in force when it was saved, without history\n"
  "  --out DIR    a new or empty folder\n"
  "\n"
  "Prints {\"project\": DIR, \"history\": N changes, \"init\": true|false}. Train it, then bring\n"
  "the result back with hydranet-cli runs import DIR.\n";

int
cli_export (int argc, char **argv)
{
  static const struct option options[] = {
    { "run", required_argument, NULL, 'r' },
    { "model", required_argument, NULL, 'm' },
    { "out", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { 0 },
  };
  HnExport what = { .exporter = "hydranet-cli " HYDRA_VERSION };
  const char *out = NULL;
  int opt;
  while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1)
    switch (opt)
      {
      case 'r': what.run = optarg; break;
      case 'm': what.model = optarg; break;
      case 'o': out = optarg; break;
      case 'h': fputs (help, stdout); return EXIT_OK;
      default: return cli_usage_error ("export-pytorch", "unknown option");
      }
  if (optind < argc)
    return cli_usage_error ("export-pytorch", "unexpected argument '%s'", argv[optind]);
  if (what.run == NULL && what.model == NULL)
    return cli_usage_error ("export-pytorch", "give --run DIR or --model M");
  if (out == NULL)
    return cli_usage_error ("export-pytorch", "give --out DIR");

  HnError err;
  HnProjectSummary summary;
  if (!export_pytorch_project (&what, out, &summary, &err))
    return cli_fail ("%s", err.message);
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddItemToObject (o, "project", cli_json_string (summary.folder));
  cJSON_AddNumberToObject (o, "history", summary.changes);
  cJSON_AddBoolToObject (o, "init", summary.has_init);
  free (summary.folder);
  cli_print_json (o);
  return EXIT_OK;
}
