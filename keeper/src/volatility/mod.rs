//! Volatility, from price files to pushes:
//!
//! * [`candles`]: the candle (kline) CSV reader, for the `shared/data` files
//!   and Binance dumps;
//! * [`estimators`]: EWMA, rolling realised and GARCH(1,1) volatility over
//!   candles (`ballast-keeper vol`, and the keeper's EWMA);
//! * [`policy`]: when to push a reserve's volatility and which value, so
//!   that the program never refuses the push.
//!
//! The keeper's task that samples oracles and pushes is
//! [`crate::tasks::volatility`].

pub mod candles;
pub mod estimators;
pub mod policy;
