//! `ballast-keeper replay`: historical prices through the real program on
//! the embedded chain, with a seeded borrower population, under the dynamic
//! and the static collateral policy. The model and its assumptions are in
//! `docs/REPLAY.md`; in short:
//!
//! * **Market**: a definition file ([`crate::market`], by default
//!   `migrations/replay-sol-usdc.toml`) applied with the policy of the run.
//! * **Population** ([`draw_population`]): `N` borrowers who deposit the
//!   collateral asset (log-uniform $1,000..$100,000 at the first price) and
//!   borrow the stablecoin at a drawn share (uniform 30%..95%) of their
//!   borrowing power under the LTV in force; [`SUPPLIERS`] suppliers deposit
//!   the stablecoin so that the initial utilisation is
//!   [`TARGET_UTILIZATION`]. Drawn once from the seed, shared by every policy.
//! * **Path** ([`candle_path`]): each candle is four steps, a quarter period
//!   apart: open, the extreme nearer the open, the other extreme, close.
//! * **Oracle** ([`OracleModel`]): at each step the Pyth `PriceUpdateV2`
//!   account gets the price, a confidence of `conf_bps` of it (at most half
//!   the reserve's `oracle_max_conf_bps`) and an EMA of the path with a
//!   half-life of `ema_half_life_secs`, published at the step's time.
//! * **Keeper** ([`crate::keeper_loop::Keeper::tick`]): the same loop a live keeper runs, with
//!   its EWMA backfilled with the closes of the warm-up before `--from`.
//! * **Liquidators** ([`crate::liquidators`], the stress engine's model):
//!   a USD capacity per step (default [`DEFAULT_CAPACITY_SHARE_PER_HOUR`] of
//!   the initial debt an hour), lowest health first, a profitability rule
//!   ([`DEFAULT_PROFIT`]: a dust liquidation is not taken and is left to
//!   the bad-debt task), and the square-root impact of the seized
//!   collateral they sell: the price written at each step is the file's
//!   times `exp(-cumulative impact)` (permanent). One liquidator account,
//!   funded to repay twice the initial debt, sends what they take.
//! * **Term loans** (`--term-share X`, [`term_choice`]): a share of the
//!   borrowers opens with `borrow_term` at a tenor of the debt reserve's
//!   `[reserves.term]`, for a face equal to what its floating twin borrows
//!   (receiving the zero-coupon price); the keeper's liquidation and
//!   bad-debt tasks convert a loan (`convert_term_debt`) in the transaction
//!   that liquidates or writes it off; the summary's `term` follows them.
//! * **Refusals**: a liquidation or socialisation the program refuses does
//!   not end the run; the obligation's debt is counted as unrecoverable
//!   (`unrecoverable_obligations`, `unrecoverable_debt_usd` and the last
//!   refusal of each in the summary) and the walk goes on.
//!
//! The module is built with the cargo feature `embedded` (it drives
//! LiteSVM). Its parts:
//!
//! * `model`: the population, the candle path, the oracle model and the
//!   price window;
//! * `run`: one run of one policy ([`Replay`], [`run_policy`]);
//! * `report`: what a run records and the summary table;
//! * [`chart`]: the PNG chart.

pub mod chart;
mod model;
mod report;
mod run;

pub use model::{
    candle_path, draw_population, ema_step, load_window, supplier_income_usd, time_weighted_mean,
    BorrowerSpec, LiquidatorSettings, OracleModel, PathPoint, Population, Window,
    DEFAULT_CAPACITY_SHARE_PER_HOUR, DEFAULT_DEPTH_USD, DEFAULT_PROFIT, MAX_BORROW_SHARE,
    MAX_COLLATERAL_USD, MIN_BORROW_SHARE, MIN_COLLATERAL_USD, STEPS_PER_CANDLE, SUPPLIERS,
    TARGET_UTILIZATION,
};
pub use report::{summary_table, ReplayReport, RunResult, RunSummary, StepRecord, TermSummary};
pub use run::{run_policy, select, term_choice, Arrival, Replay, ReplayOptions, StepOutcome};
