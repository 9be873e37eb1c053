#pragma once
/// \file unit_balance.hpp
/// Restoring the per-neuron balances of a chain of positively homogeneous layers after a move
/// that broke them (a capture's row projection, problems/model.hpp).
///
/// Chain W_1, …, W_T (W_l maps layer l−1 to layer l; layer 0 is the input). The balance of hidden
/// unit u of layer l < T is B_u = ‖row_u W_l‖² − ‖col_u W_{l+1}‖², which gradient flow conserves
/// (Du, Hu, Lee, NeurIPS 2018, Thm 2.1). Scaling unit u by e^{s_u}, W_l[j,k] → e^{s_j − s_k} W_l[j,k]
/// (s = 0 on the inputs), leaves the network's function unchanged when every ψ_l (l < T) is
/// positively homogeneous, and so keeps every pre-activation that sat on a kink at 0. The top
/// layer's rows are then rescaled back to their norms at entry: that keeps the balances of layer T
/// (the held layer, whose row norms the capture kept) and multiplies each z_T by a positive factor,
/// so held kinks stay held.
///
/// With c_e the squared scaled weight of edge e, the residual r(s) = B(s) − B* is smooth in s and
/// its Jacobian is a signed graph Laplacian on the hidden units, grounded at the inputs; Newton's
/// method on it converges in a few steps from s = 0 when the defect is small.
#include "model.hpp"

#include <vector>

namespace kktflow {

using LayerChain = std::vector<Eigen::Map<RowMajorMatrix>>;

/// B_u for every unit of layers 1 … T−1, layer after layer (size Σ_{l<T} rows(W_l)).
Eigen::VectorXd unit_balances(const LayerChain& chain);

/// Scales the units of layers 1 … T−1 (and renormalizes W_T's rows) so that unit_balances(chain)
/// equals `targets` to rounding. Returns false, leaving the chain as it was, when Newton's method
/// does not converge (a target no scaling can reach, e.g. a positive balance for a unit whose
/// outgoing weights are all zero).
bool rescale_to_balance(LayerChain& chain, const Eigen::VectorXd& targets);

}  // namespace kktflow
