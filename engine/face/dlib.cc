// dlib.cc — dlib's face detector and landmark model, called from C (dlib.h).
#include "dlib.h"

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>

#include <algorithm>
#include <exception>
#include <fstream>
#include <new>

namespace
{
// A grey image dlib reads in place: its generic image interface (found by argument-
// dependent lookup, so in this namespace), const half only.
struct GreyView
{
  const uint8_t *pixels;
  long w, h;
};

inline long num_rows (const GreyView &v) { return v.h; }
inline long num_columns (const GreyView &v) { return v.w; }
inline const void *image_data (const GreyView &v) { return v.pixels; }
inline long width_step (const GreyView &v) { return v.w; }
} // namespace

namespace dlib
{
template <> struct image_traits<GreyView>
{
  typedef unsigned char pixel_type;
};
} // namespace dlib

struct HnDlib
{
  dlib::frontal_face_detector detector; // keeps its pyramid between calls: one per thread
  dlib::shape_predictor landmarks;
};

extern "C" HnDlib *
dlib_faces_new (const char *landmarks_path, HnError *err)
{
  try
    {
      std::ifstream in (landmarks_path, std::ios::binary);
      if (!in)
        {
          hn_error_set (err, "%s: cannot be read (the face landmark model is in Debian's "
                             "libdlib-data package)", landmarks_path);
          return nullptr;
        }
      HnDlib *d = new HnDlib{ dlib::get_frontal_face_detector (), {} };
      try
        {
          dlib::deserialize (d->landmarks, in);
          if (d->landmarks.num_parts () != 68)
            throw dlib::serialization_error ("not a 68-point model");
        }
      catch (...)
        {
          delete d;
          throw;
        }
      return d;
    }
  catch (const std::bad_alloc &)
    {
      hn_error_set (err, "out of memory loading the face models");
    }
  catch (const std::exception &e)
    {
      hn_error_set (err, "%s: not a dlib 68-point landmark model (%.200s)", landmarks_path,
                    e.what ());
    }
  catch (...)
    {
      hn_error_set (err, "%s: not a dlib 68-point landmark model", landmarks_path);
    }
  return nullptr;
}

extern "C" void
dlib_faces_free (HnDlib *d)
{
  delete d;
}

extern "C" int
dlib_faces_detect (HnDlib *d, const uint8_t *grey, int w, int h, double threshold,
                   HnDlibBox *boxes, int max, HnError *err)
{
  try
    {
      std::vector<dlib::rect_detection> found;
      d->detector (GreyView{ grey, w, h }, found, threshold);
      std::sort (found.begin (), found.end (), [] (const auto &a, const auto &b) {
        return a.detection_confidence > b.detection_confidence;
      });
      int n = std::min ((int) found.size (), max);
      for (int i = 0; i < n; i++)
        {
          const dlib::rectangle &r = found[i].rect;
          boxes[i] = { r.left (), r.top (), r.right (), r.bottom (),
                       found[i].detection_confidence };
        }
      return n;
    }
  catch (const std::bad_alloc &)
    {
      hn_error_set (err, "out of memory finding faces in a %d×%d image", w, h);
    }
  catch (const std::exception &e)
    {
      hn_error_set (err, "finding faces failed: %.300s", e.what ());
    }
  catch (...)
    {
      hn_error_set (err, "finding faces failed");
    }
  return -1;
}

extern "C" bool
dlib_faces_landmarks (const HnDlib *d, const uint8_t *grey, int w, int h, const HnDlibBox *box,
                      float *xy, HnError *err)
{
  try
    {
      dlib::rectangle r (box->left, box->top, box->right, box->bottom);
      dlib::full_object_detection shape = d->landmarks (GreyView{ grey, w, h }, r);
      for (unsigned long i = 0; i < shape.num_parts (); i++)
        {
          xy[2 * i] = (float) shape.part (i).x ();
          xy[2 * i + 1] = (float) shape.part (i).y ();
        }
      return true;
    }
  catch (const std::bad_alloc &)
    {
      return hn_error_set (err, "out of memory placing face landmarks");
    }
  catch (const std::exception &e)
    {
      return hn_error_set (err, "placing face landmarks failed: %.300s", e.what ());
    }
  catch (...)
    {
      return hn_error_set (err, "placing face landmarks failed");
    }
}
