#include "luma_matrix.h"

vidcolor::Matrix vc_luma_matrix_for(const GstVideoInfo* info) {
  switch (info->colorimetry.matrix) {
    case GST_VIDEO_COLOR_MATRIX_BT709:
      return vidcolor::Matrix::BT709;
    case GST_VIDEO_COLOR_MATRIX_BT601:
      return vidcolor::Matrix::BT601;
    case GST_VIDEO_COLOR_MATRIX_BT2020:
      return vidcolor::Matrix::BT2020;
    default:
      break;
  }
  switch (info->colorimetry.primaries) {
    case GST_VIDEO_COLOR_PRIMARIES_BT709:
      return vidcolor::Matrix::BT709;
    case GST_VIDEO_COLOR_PRIMARIES_BT470BG:
    case GST_VIDEO_COLOR_PRIMARIES_SMPTE170M:
    case GST_VIDEO_COLOR_PRIMARIES_SMPTE240M:
      return vidcolor::Matrix::BT601;
    case GST_VIDEO_COLOR_PRIMARIES_BT2020:
      return vidcolor::Matrix::BT2020;
    default:
      break;
  }
  return GST_VIDEO_INFO_HEIGHT(info) <= 576 ? vidcolor::Matrix::BT601 : vidcolor::Matrix::BT709;
}
