/* hydranet-cli faces — the faces found in each image: boxes, landmarks, the time it took, and
 * optionally the aligned chips (what `predict --faces auto` gives the network). */
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image_write.h>

#include "cli.h"
#include "clock.h"
#include "faces.h"
#include "fileio.h"

static cJSON *
face_json (const HnFace *f, int index, bool landmarks)
{
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddNumberToObject (o, "face", index);
  cJSON_AddItemToObject (o, "box", cJSON_CreateIntArray ((int[4]){ f->x, f->y, f->w, f->h }, 4));
  cJSON_AddNumberToObject (o, "score", f->score);
  /* the similarity to the chip as scale and angle: how far the face was from a chip's pose */
  double scale = sqrt ((double) f->a * f->a + (double) f->b * f->b);
  cJSON_AddNumberToObject (o, "scale", 1.0 / scale);
  cJSON_AddNumberToObject (o, "degrees", -atan2 (f->b, f->a) * 180.0 / M_PI);
  if (landmarks)
    {
      float xy[2 * FACE_LANDMARKS];
      for (int i = 0; i < FACE_LANDMARKS; i++)
        xy[2 * i] = f->landmarks[i].x, xy[2 * i + 1] = f->landmarks[i].y;
      cJSON_AddItemToObject (o, "landmarks", cJSON_CreateFloatArray (xy, 2 * FACE_LANDMARKS));
    }
  return o;
}

/* DIR/NAME-I.png for face I of NAME.EXT (two inputs of one name in different folders write
 * the same chips: the last one's stay). */
static bool
write_chip (const char *dir, const char *file, int index, const uint8_t *chip, HnError *err)
{
  char *copy = strdup (file);
  if (copy == NULL)
    return hn_error_set (err, "out of memory");
  char *name = basename (copy), *dot = strrchr (name, '.');
  if (dot != NULL && dot != name)
    *dot = '\0';
  char path[4096];
  int n = snprintf (path, sizeof path, "%s/%s-%d.png", dir, name, index);
  free (copy);
  if (n < 0 || (size_t) n >= sizeof path)
    return hn_error_set (err, "%s: the chip's path is too long", dir);
  if (!stbi_write_png (path, FACE_CHIP_SIZE, FACE_CHIP_SIZE, 3, chip, FACE_CHIP_SIZE * 3))
    return hn_error_set (err, "%s: cannot be written", path);
  return true;
}

/* One line for file: its faces, or why it could not be read. */
static bool
faces_of (HnFaceFinder *finder, const char *file, bool landmarks, const char *chips_dir)
{
  HnImage img;
  HnFaces faces = { 0 };
  HnError err;
  uint8_t chip[FACE_CHIP_SIZE * FACE_CHIP_SIZE * 3];
  double t0 = hn_seconds ();
  if (!image_decode_file_upright (file, &img, &err))
    {
      cli_print_json (cli_file_error_json (file, err.message));
      return false;
    }
  double t1 = hn_seconds ();
  bool ok = face_find (finder, &img, &faces, &err) || hn_error_prefix (&err, "%s", file);
  double t2 = hn_seconds ();
  for (int i = 0; ok && i < faces.n; i++)
    {
      face_chip (&img, &faces.faces[i], chip);
      if (chips_dir != NULL)
        ok = write_chip (chips_dir, file, i, chip, &err);
    }
  double t3 = hn_seconds ();
  cJSON *o;
  if (ok)
    {
      o = cJSON_CreateObject ();
      cJSON_AddItemToObject (o, "file", cli_json_string (file));
      cJSON_AddNumberToObject (o, "width", img.w);
      cJSON_AddNumberToObject (o, "height", img.h);
      cJSON_AddNumberToObject (o, "decode_ms", (t1 - t0) * 1e3);
      cJSON_AddNumberToObject (o, "find_ms", (t2 - t1) * 1e3);
      cJSON_AddNumberToObject (o, "align_ms", (t3 - t2) * 1e3);
      cJSON *list = cJSON_AddArrayToObject (o, "faces");
      for (int i = 0; i < faces.n; i++)
        cJSON_AddItemToArray (list, face_json (&faces.faces[i], i, landmarks));
    }
  else
    o = cli_file_error_json (file, err.message);
  cli_print_json (o);
  faces_clear (&faces);
  image_clear (&img);
  return ok;
}

int
cli_faces (int argc, char **argv)
{
  static const struct option options[] = {
    { "landmarks", no_argument, NULL, 'l' },
    { "chips", required_argument, NULL, 'c' },
    { 0 },
  };
  bool landmarks = false;
  const char *chips_dir = NULL;
  int opt;
  while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1)
    switch (opt)
      {
      case 'l':
        landmarks = true;
        break;
      case 'c':
        chips_dir = optarg;
        break;
      default:
        return cli_usage_error ("faces", "unknown option");
      }
  if (optind >= argc)
    return cli_usage_error ("faces", "no images given");
  HnError err;
  if (chips_dir != NULL && !file_make_dirs (chips_dir, 0755, &err))
    return cli_fail ("%s", err.message);
  HnFaceFinder *finder = face_finder_new (NULL, &err);
  if (finder == NULL)
    return cli_fail ("%s", err.message);
  int status = EXIT_OK;
  for (int i = optind; i < argc; i++)
    if (!faces_of (finder, argv[i], landmarks, chips_dir))
      status = EXIT_FAILED;
  face_finder_free (finder);
  return status;
}
