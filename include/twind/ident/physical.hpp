// A linear model in physical terms: poles, time constants and DC gains. No I/O.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "twind/config/config.hpp"

namespace twind::ident {

/// A linear model in physical terms: its continuous poles (a discrete model's as ln(z) / dt),
/// slowest first, and its DC gains.
struct Physical {
  struct Pole {
    double re = 0.0;
    double im = 0.0;
    /// -1 / re for a stable pole; NaN for one on or right of the imaginary axis.
    [[nodiscard]] double time_constant() const noexcept;
  };
  struct DcGain {
    std::string input;
    std::string output;
    double gain = 0.0;
  };
  std::vector<Pole> poles;
  std::vector<DcGain> dc_gains;  ///< empty when the model has an integrator (no DC gain)
};

/// `model` in physical terms; nullopt for a rotating machine, whose parameters are physical
/// already.
[[nodiscard]] std::optional<Physical> physical(const config::ModelSpec& model,
                                               const std::vector<std::string>& inputs,
                                               const std::vector<std::string>& outputs);

/// The same in one line: `pole -1.0002 (time constant 0.9998 s); DC gain u -> y 1.0001`. Empty
/// for a rotating machine.
[[nodiscard]] std::string physical_summary(const config::ModelSpec& model,
                                           const std::vector<std::string>& inputs,
                                           const std::vector<std::string>& outputs);

}  // namespace twind::ident
