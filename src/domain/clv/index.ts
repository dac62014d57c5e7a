/**
 * Customer-lifetime-value maths: BG/NBD purchase counts, Gamma-Gamma spend, discounted CLV,
 * lifecycle stages and the transaction-log summary they are fitted on. Pure functions, no runtime.
 */
export {
  bgNbdLogLikelihood,
  compressCustomers,
  conditionalExpectedPurchases,
  expectedPurchases,
  expectedPurchasesIfAlive,
  fitBgNbd,
  probabilityAlive,
  type BgNbdCustomer,
  type BgNbdFit,
  type BgNbdGroup,
  type BgNbdParams,
  type FitBgNbdOptions,
} from "./bgnbd.ts";
export {
  customerLifetimeValue,
  DAYS_PER_MONTH,
  defaultLifecycleThresholds,
  horizonPurchasesIfAlive,
  lifecycleStage,
  WEEKS_PER_MONTH,
  type ClvCustomer,
  type ClvOptions,
  type ClvResult,
  type LifecycleInput,
  type LifecycleStage,
  type LifecycleThresholds,
} from "./clv.ts";
export {
  expectedAverageSpend,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  type FitGammaGammaOptions,
  type GammaGammaFit,
  type GammaGammaParams,
  type SpendHistory,
} from "./gamma-gamma.ts";
export { hypergeometric2F1, log2F1, log2F1Signed, type SignedLog } from "./hypergeometric.ts";
export { minimize, type MinimizeOptions, type MinimizeResult } from "./optimize.ts";
export { logBeta, logGamma, logSumExp } from "./special.ts";
export {
  createSummaryAccumulator,
  DAYS_PER_UNIT,
  summarizeTransactions,
  type SummaryAccumulator,
  type CustomerSummary,
  type SummaryOptions,
  type TimeUnit,
  type Transaction,
} from "./summary.ts";
