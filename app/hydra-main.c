/* hydra-main.c — hydranet: the studio. `hydranet [FOLDER | MODEL.safetensors]`. */

#include "hydra-application.h"

int
main (int argc, char **argv)
{
  g_autoptr (HydraApplication) app = hydra_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
