/* hydranet-cli info — what a checkpoint holds, as one JSON object. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "checkpoint.h"
#include "runstate.h"
#include "cli.h"

int
cli_info (int argc, char **argv)
{
  static const struct option options[] = {
    { "model", required_argument, NULL, 'm' },
    { 0 },
  };
  const char *path = NULL;
  int opt;
  while ((opt = getopt_long (argc, argv, "m:", options, NULL)) != -1)
    {
      if (opt != 'm')
        return cli_usage_error ("info", "unknown option");
      path = optarg;
    }
  if (path == NULL)
    return cli_usage_error ("info", "--model is required");
  if (optind < argc)
    return cli_usage_error ("info", "unexpected argument '%s'", argv[optind]);

  HnError err = { 0 };
  HnCheckpoint *c = checkpoint_open (path, CHECKPOINT_MODEL, &err);
  if (c == NULL)
    return cli_fail ("%s", err.message);
  const HnSafetensors *st = c->st;
  const HnCheckpointInfo info = c->info;
  const HnModel *model = c->model;

  const HnParamTable *table = model_params (model);
  /* a training checkpoint keeps its optimizer state beside it, in PATH.optim */
  char *optim = run_state_optimizer_path (path);
  bool resumable = safetensors_meta (st, "optim.kind") != NULL && optim != NULL
                   && access (optim, R_OK) == 0;
  free (optim);
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddItemToObject (o, "file", cli_json_string (path));
  cJSON_AddStringToObject (o, "backbone", backbone_name (info.backbone));
  cJSON_AddNumberToObject (o, "input_size", info.input_size);
  cJSON_AddNumberToObject (o, "parameters", (double) table->n_params);
  cJSON_AddNumberToObject (o, "tensors", table->n);
  cJSON_AddBoolToObject (o, "optimizer_state", resumable);
  cJSON *meta = cJSON_AddObjectToObject (o, "metadata");
  for (int i = 0; i < safetensors_meta_count (st); i++)
    {
      const StMeta *m = safetensors_meta_at (st, i);
      cJSON_AddStringToObject (meta, m->key, m->value);
    }
  cli_print_json (o);
  checkpoint_close (c);
  return EXIT_OK;
}
