// The element chain's shared constants, defined once: the elements' property defaults, the
// engines' and the trainer's defaults and the tools that reproduce the chain all read them
// here, so that what is trained, what runs and what is scored cannot drift apart.
#pragma once

namespace vidcolor {

// Sharpness of the confidence maps of eq. 4, W(A, B) = max(1 - alpha * mean_c |A - B|, 0):
// the paper's alpha (Lei & Chen 2019, §4.2). g is trained with it, so it is the refinement's
// default everywhere.
inline constexpr double kConfidenceAlpha = 15.0;

// The vidcolorize chain's optical flow scale (vcflow's `scale` inside the bin): the flow at
// g's resolution, a quarter of the frame, not vcflow's own default of a half, because g never
// sees more detail than that. VideoColorizer (vidcolor-eval) and vidcolor-bench use it too.
inline constexpr double kChainFlowScale = 0.25;

}  // namespace vidcolor
