#pragma once
// Constructors of the concrete learners (internal to models/; use make_learner).
#include <memory>

#include "models/learner.h"

namespace fewshot::models::detail {

std::unique_ptr<Learner> make_gradient_learner(LearnerConfig cfg);      // maml fomaml anil metasgd reptile
std::unique_ptr<Learner> make_protonet(LearnerConfig cfg);              // protonet
std::unique_ptr<Learner> make_conventional_learner(LearnerConfig cfg);  // scratch baseline baseline++

// Forward passes of one task under a BN mode: support rows alone, and the query either alone
// (transductive) or after the support rows with support statistics (BNMode::support).
Tensor query_forward(const Backbone& net, const Task& task, const ParamList& params, BNMode mode);
Tensor query_features(const Backbone& net, const Task& task, const ParamList& params, BNMode mode);

}  // namespace fewshot::models::detail
