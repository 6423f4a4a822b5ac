/* input.h — what the network takes as input (README.md, Prediction).
 *
 * An image becomes (3, S, S) planar floats: RGB scaled to [0, 1], then normalised with
 * ImageNet's mean and standard deviation per channel, as torchvision's pretrained trunks
 * expect. The data layer applies these; checkpoints record them beside the weights.
 */
#pragma once

static const float input_mean[3] = { 0.485f, 0.456f, 0.406f };
static const float input_std[3] = { 0.229f, 0.224f, 0.225f };
