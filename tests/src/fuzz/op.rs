//! The fuzzer's operations and their generation ([`op_strategy`]).
//!
//! Every variant name is unique across the enums of this module, so a
//! failing sequence printed with `{:?}` compiles as is after
//! `use ballast_tests::fuzz::op::*;` (see [`super::runner::rust_test`]).

use proptest::prelude::*;

/// How much an operation moves, relative to what it acts on (a wallet for
/// deposit and repay, a position for withdraw, the borrowing power for
/// borrow, the debt for liquidate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Amt {
    /// Zero base units (must be refused).
    Nothing,
    /// One base unit.
    OneUnit,
    /// `u64::MAX` (the instructions' "all" where they have one).
    AllMax,
    /// This percentage (1..=130) of the base, at least one unit.
    Pct(u8),
}

/// What an oracle publishes from now on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OracleMode {
    /// A fresh, tight price at every operation.
    Fresh,
    /// No new price: it ages past `max_age`.
    Stale,
    /// Fresh but with a confidence of 5% (past the reserves' 2%).
    Wide,
}

/// The action between a flash deposit and its withdrawal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Middle {
    /// Nothing: deposit -> withdraw all.
    Idle,
    /// `rebalance` of the USDC reserve in between.
    ThenRebalance,
    /// A borrow of 10 USDC of the same market against it, repaid in full.
    ThenBorrowRepay,
}

/// An admin's configuration change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigChange {
    /// Switches the risk policy (static <-> dynamic).
    SwitchPolicy,
    /// Deposit cap set to this many whole tokens (0: deposits disabled).
    DepositCapWhole(u32),
    /// Borrow cap set to this many whole tokens.
    BorrowCapWhole(u32),
    /// Deposit and borrow caps back to `u64::MAX / 4`.
    UncapAll,
    /// Outflow cap set to this many whole tokens (the window is kept; on a
    /// reserve without a limiter the cap is inert).
    OutflowCapWhole(u32),
    /// Oracle max age set to this many seconds (1..=86,400 valid; 0 refused).
    MaxAgeSecs(u32),
    /// LTV and liquidation threshold set to these bps (may be refused).
    Thresholds(u16, u16),
    /// Market liquidation parameters: close factor bps, bonus max bps.
    Liquidation(u16, u16),
}

/// An attack that must be refused (its refusal must move nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttackKind {
    /// The attacker withdraws a user's collateral into its own wallet.
    StealWithdraw,
    /// The attacker borrows against a user's obligation.
    StealBorrow,
    /// A deposit into a reserve of the other market from this market's
    /// obligation.
    CrossMarketDeposit,
    /// A withdrawal into the reserve's own vault (the same account twice).
    VaultAsWallet,
    /// A borrow whose health accounts carry another reserve's oracle.
    SwappedOracle,
    /// A borrow whose health accounts list a reserve twice.
    DuplicateHealth,
    /// The attacker signs the admin's `update_reserve_config`.
    FakeAdminConfig,
    /// The attacker signs `update_market` (pause) and `propose_admin`.
    FakeAdminMarket,
    /// The attacker pushes a volatility as if it were the risk authority.
    FakeRiskAuthority,
    /// `socialize_bad_debt` of an obligation that holds collateral.
    SocializeWithCollateral,
    /// `rebalance` with the strategy of the other market swapped for a
    /// reserve of the wrong mint.
    RebalanceWrongStrategy,
    /// The attacker signs `propose_admin` naming itself.
    FakeProposeAdmin,
    /// The attacker signs `accept_admin` with no transfer pending to it.
    AcceptUnproposed,
    /// The attacker signs `set_treasury_strategy` (A/SOL -> B/SOL).
    FakeSetStrategy,
    /// The attacker opens an obligation for a user (owner who did not sign).
    ObligationForOther,
    /// The attacker signs `set_term_config` (term loans disabled).
    FakeTermConfig,
    /// The attacker takes a term loan against a user's obligation.
    StealBorrowTerm,
    /// A term loan of this market's reserve booked on the attacker's
    /// obligation in the other market.
    CrossMarketBorrowTerm,
    /// `convert_term_debt` naming a reserve of the other market.
    CrossMarketConvert,
}

/// A term configuration the admin sets (`set_term_config`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TermChange {
    /// The world's: 1-day grid, tenors of 1, 2 and 4 days (see
    /// [`super::world::term_config`]).
    Standard,
    /// A steeper curve: base spread 30%, slope 200%, commitment cap 10%.
    Steep,
    /// All tenors 0: no new term loan (open ones run to maturity).
    Disabled,
    /// A 30-minute grid (below the 1-hour minimum): must be refused.
    InvalidGrid,
}

/// One fuzzer operation. Actor indices: 0..=2 users, 3 the attacker, 4 the
/// liquidator (see [`super::world::ACTORS`]); reserve indices: 0 A/USDC
/// (SPL Token, buffer band, limiter, treasury -> 3), 1 A/SOL (Token-2022,
/// dynamic policy, volatile), 2 A/ETH (SPL Token, static), 3 B/USDC (the
/// strategy, limiter), 4 B/SOL (Token-2022). Indices are taken modulo the
/// counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `deposit` into the actor's obligation in the reserve's market.
    Deposit { actor: u8, res: u8, amt: Amt },
    /// `withdraw` (with the six recall accounts when `recall`).
    Withdraw {
        actor: u8,
        res: u8,
        amt: Amt,
        recall: bool,
    },
    /// `borrow`.
    Borrow { actor: u8, res: u8, amt: Amt },
    /// `payer` repays `owner`'s debt.
    Repay {
        payer: u8,
        owner: u8,
        res: u8,
        amt: Amt,
    },
    /// `liquidator` liquidates `owner`'s obligation in the debt reserve's
    /// market, `times` times in a row (separate transactions).
    Liquidate {
        liquidator: u8,
        owner: u8,
        debt: u8,
        coll: u8,
        amt: Amt,
        times: u8,
    },
    /// `socialize_bad_debt` of `owner`'s debt in `res`.
    Socialize { owner: u8, res: u8 },
    /// The risk authority pushes `sigma_milli / 1000` for A/SOL.
    PushSigma { sigma_milli: u32 },
    /// `rebalance` of A/USDC against B/USDC.
    Rebalance,
    /// `accrue_interest` (with the strategy reserve when `mark`).
    Accrue { res: u8, mark: bool },
    /// `balance_sheet` of `res` (with the strategy when it has one).
    Sheet { res: u8 },
    /// The admin pauses or unpauses market `market` (0 A, 1 B).
    Pause { market: u8, paused: bool },
    /// An admin configuration change of `res` (or its market).
    Config { res: u8, change: ConfigChange },
    /// The attacker's flash round trip on `res`: deposit, `middle`, withdraw
    /// all, in one transaction.
    Flash { res: u8, amt: Amt, middle: Middle },
    /// The attacker borrows and repays all in one transaction.
    BorrowRepay { res: u8, amt: Amt },
    /// An attack that must be refused.
    Attack { kind: AttackKind, res: u8 },
    /// The price of mint `mint` (0 USDC, 1 SOL, 2 ETH) is multiplied by
    /// `bps / 10,000`.
    PriceJump { mint: u8, bps: u16 },
    /// The oracle of `res` switches to `mode`.
    OracleSet { res: u8, mode: OracleMode },
    /// The clock moves `secs` forward.
    Warp { secs: u32 },
    /// `borrow_term` by `actor` of a face `amt` of its borrowing power in
    /// `res` at tenor index `tenor` (3: unknown).
    BorrowTerm {
        actor: u8,
        res: u8,
        tenor: u8,
        amt: Amt,
    },
    /// `payer` repays `owner`'s term loan in `res` in full, paying at most
    /// `amt` of the loan's face (`AllMax`: no limit).
    RepayTerm {
        payer: u8,
        owner: u8,
        res: u8,
        amt: Amt,
    },
    /// `convert_term_debt` of `owner`'s term loan in `res` (permissionless).
    ConvertTerm { owner: u8, res: u8 },
    /// The admin's `set_term_config` of `res`.
    TermSet { res: u8, change: TermChange },
}

impl Op {
    /// A short name for the coverage counts: the instruction(s) sent.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Deposit { .. } => "deposit",
            Op::Withdraw { recall: true, .. } => "withdraw+recall",
            Op::Withdraw { .. } => "withdraw",
            Op::Borrow { .. } => "borrow",
            Op::Repay { .. } => "repay",
            Op::Liquidate { .. } => "liquidate",
            Op::Socialize { .. } => "socialize_bad_debt",
            Op::PushSigma { .. } => "update_volatility",
            Op::Rebalance => "rebalance",
            Op::Accrue { .. } => "accrue_interest",
            Op::Sheet { .. } => "balance_sheet",
            Op::Pause { .. } => "update_market(pause)",
            Op::Config {
                change: ConfigChange::Liquidation(..),
                ..
            } => "update_market(liquidation)",
            Op::Config { .. } => "update_reserve_config",
            Op::Flash { .. } => "flash deposit->withdraw",
            Op::BorrowRepay { .. } => "borrow->repay",
            Op::Attack { .. } => "attack",
            Op::PriceJump { .. } => "(price jump)",
            Op::OracleSet { .. } => "(oracle mode)",
            Op::Warp { .. } => "(clock warp)",
            Op::BorrowTerm { .. } => "borrow_term",
            Op::RepayTerm { .. } => "repay_term",
            Op::ConvertTerm { .. } => "convert_term_debt",
            Op::TermSet { .. } => "set_term_config",
        }
    }
}

fn amt() -> impl Strategy<Value = Amt> {
    prop_oneof![
        1 => Just(Amt::Nothing),
        1 => Just(Amt::OneUnit),
        2 => Just(Amt::AllMax),
        12 => (1u8..=130).prop_map(Amt::Pct),
    ]
}

fn change() -> impl Strategy<Value = ConfigChange> {
    prop_oneof![
        3 => Just(ConfigChange::SwitchPolicy),
        1 => (0u32..2_000).prop_map(ConfigChange::DepositCapWhole),
        1 => (0u32..2_000).prop_map(ConfigChange::BorrowCapWhole),
        3 => Just(ConfigChange::UncapAll),
        2 => (1u32..20_000).prop_map(ConfigChange::OutflowCapWhole),
        2 => prop_oneof![Just(0u32), 1u32..=600, Just(86_400), Just(86_401)]
            .prop_map(ConfigChange::MaxAgeSecs),
        2 => (3_000u16..9_800, 3_000u16..9_900).prop_map(|(a, b)| ConfigChange::Thresholds(a, b)),
        2 => (prop_oneof![Just(0u16), 1u16..=10_000], 0u16..=6_000)
            .prop_map(|(c, b)| ConfigChange::Liquidation(c, b)),
    ]
}

fn attack() -> impl Strategy<Value = AttackKind> {
    prop_oneof![
        Just(AttackKind::StealWithdraw),
        Just(AttackKind::StealBorrow),
        Just(AttackKind::CrossMarketDeposit),
        Just(AttackKind::VaultAsWallet),
        Just(AttackKind::SwappedOracle),
        Just(AttackKind::DuplicateHealth),
        Just(AttackKind::FakeAdminConfig),
        Just(AttackKind::FakeAdminMarket),
        Just(AttackKind::FakeRiskAuthority),
        Just(AttackKind::SocializeWithCollateral),
        Just(AttackKind::RebalanceWrongStrategy),
        Just(AttackKind::FakeProposeAdmin),
        Just(AttackKind::AcceptUnproposed),
        Just(AttackKind::FakeSetStrategy),
        Just(AttackKind::ObligationForOther),
        Just(AttackKind::FakeTermConfig),
        Just(AttackKind::StealBorrowTerm),
        Just(AttackKind::CrossMarketBorrowTerm),
        Just(AttackKind::CrossMarketConvert),
    ]
}

/// A reserve for a term operation: A/USDC, A/ETH (configured), or any.
fn term_res() -> impl Strategy<Value = u8> {
    prop_oneof![4 => Just(0u8), 2 => Just(2u8), 1 => 0u8..5]
}

/// One random operation, weighted toward the lending flow (deposits and
/// borrows to build positions, price moves and warps to make them
/// unhealthy, liquidations to resolve them).
pub fn op_strategy() -> impl Strategy<Value = Op> {
    let actor = 0u8..5;
    let res = 0u8..5;
    prop_oneof![
        14 => (actor.clone(), res.clone(), amt()).prop_map(|(actor, res, amt)| Op::Deposit { actor, res, amt }),
        6 => (actor.clone(), res.clone(), amt(), any::<bool>())
            .prop_map(|(actor, res, amt, recall)| Op::Withdraw { actor, res, amt, recall }),
        12 => (actor.clone(), res.clone(), amt()).prop_map(|(actor, res, amt)| Op::Borrow { actor, res, amt }),
        5 => (actor.clone(), actor.clone(), res.clone(), amt())
            .prop_map(|(payer, owner, res, amt)| Op::Repay { payer, owner, res, amt }),
        8 => (prop_oneof![4 => Just(4u8), 1 => 0u8..5], actor.clone(), res.clone(), res.clone(), amt(), 1u8..=3)
            .prop_map(|(liquidator, owner, debt, coll, amt, times)| Op::Liquidate { liquidator, owner, debt, coll, amt, times }),
        2 => (actor.clone(), res.clone()).prop_map(|(owner, res)| Op::Socialize { owner, res }),
        3 => prop_oneof![0u32..=6_000, Just(100), Just(5_000)].prop_map(|sigma_milli| Op::PushSigma { sigma_milli }),
        3 => Just(Op::Rebalance),
        2 => (res.clone(), any::<bool>()).prop_map(|(res, mark)| Op::Accrue { res, mark }),
        2 => res.clone().prop_map(|res| Op::Sheet { res }),
        1 => (0u8..2, any::<bool>()).prop_map(|(market, paused)| Op::Pause { market, paused }),
        2 => (res.clone(), change()).prop_map(|(res, change)| Op::Config { res, change }),
        3 => (res.clone(), amt(), prop_oneof![Just(Middle::Idle), Just(Middle::ThenRebalance), Just(Middle::ThenBorrowRepay)])
            .prop_map(|(res, amt, middle)| Op::Flash { res, amt, middle }),
        2 => (res.clone(), amt()).prop_map(|(res, amt)| Op::BorrowRepay { res, amt }),
        3 => (attack(), res.clone()).prop_map(|(kind, res)| Op::Attack { kind, res }),
        8 => (0u8..3, prop_oneof![6 => 8_500u16..=11_500, 2 => 4_000u16..=16_000, 1 => 2_500u16..=7_000])
            .prop_map(|(mint, bps)| Op::PriceJump { mint, bps }),
        2 => (res.clone(), prop_oneof![2 => Just(OracleMode::Fresh), 1 => Just(OracleMode::Stale), 1 => Just(OracleMode::Wide)])
            .prop_map(|(res, mode)| Op::OracleSet { res, mode }),
        6 => prop_oneof![6 => 1u32..=600, 3 => 600u32..=7_200, 1 => 7_200u32..=200_000]
            .prop_map(|secs| Op::Warp { secs }),
        // Term loans: mostly A/USDC and A/ETH (the reserves with a term
        // configuration), sometimes any reserve.
        6 => (actor.clone(), term_res(), prop_oneof![9 => 0u8..3, 1 => Just(3u8)], amt())
            .prop_map(|(actor, res, tenor, amt)| Op::BorrowTerm { actor, res, tenor, amt }),
        3 => (actor.clone(), actor.clone(), term_res(), amt())
            .prop_map(|(payer, owner, res, amt)| Op::RepayTerm { payer, owner, res, amt }),
        3 => (actor.clone(), term_res()).prop_map(|(owner, res)| Op::ConvertTerm { owner, res }),
        1 => (term_res(), prop_oneof![
                3 => Just(TermChange::Standard),
                1 => Just(TermChange::Steep),
                1 => Just(TermChange::Disabled),
                1 => Just(TermChange::InvalidGrid),
            ])
            .prop_map(|(res, change)| Op::TermSet { res, change }),
    ]
}
