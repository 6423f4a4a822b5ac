/* photo.c — what the camera adds to a synthetic face, at the target size. */
#include "synth-private.h"

/* Photo effects at the target size: a linear light gradient, exposure, contrast, a
 * colour cast, sometimes black and white, then Gaussian sensor noise (the sum of four
 * uniforms from one splitmix64 value per sample, close enough to Gaussian for noise). */
void
photo_develop (const Look *f, int size, uint8_t *rgb)
{
  float lc = cosf (f->light_angle), ls = sinf (f->light_angle);
  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      {
        uint8_t *p = rgb + ((size_t) y * size + x) * 3;
        float fx = 2.0f * (x + 0.5f) / size - 1.0f, fy = 2.0f * (y + 0.5f) / size - 1.0f;
        float light = f->bright * (1.0f + f->light_grad * (fx * lc + fy * ls));
        float v[3];
        for (int c = 0; c < 3; c++)
          v[c] = ((p[c] / 255.0f * light - 0.5f) * f->contrast + 0.5f) * f->gain[c];
        if (f->greyscale)
          v[0] = v[1] = v[2] = 0.299f * v[0] + 0.587f * v[1] + 0.114f * v[2];
        for (int c = 0; c < 3; c++)
          {
            uint64_t z = rng_splitmix64 (f->noise_seed, ((uint64_t) y * size + x) * 3 + c);
            float sum = (float) (z & 0xFFFF) + (float) ((z >> 16) & 0xFFFF)
                        + (float) ((z >> 32) & 0xFFFF) + (float) (z >> 48);
            /* Four uniforms on [0, 65536): mean 131072, sd 65536·√(4/12). */
            float gauss = (sum - 131072.0f) / (65536.0f * 0.57735027f);
            float out = (v[c] + f->noise_sd * gauss) * 255.0f + 0.5f;
            p[c] = (uint8_t) clampf (out, 0.0f, 255.0f);
          }
      }
}
