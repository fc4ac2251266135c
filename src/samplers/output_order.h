// OutputOrder: the order in which a sampler that selects a set returns its rows.
#ifndef URN_SAMPLERS_OUTPUT_ORDER_H_
#define URN_SAMPLERS_OUTPUT_ORDER_H_

namespace urn::samplers {

enum class OutputOrder {
  // A uniformly random ordering of the selected rows: every ordered tuple of distinct rows is
  // equally likely. What a caller wants who reads a prefix, or trains on the sample as is.
  kRandom,
  // Ascending row index, i.e. the order of the input.
  kInput,
};

}  // namespace urn::samplers

#endif  // URN_SAMPLERS_OUTPUT_ORDER_H_
