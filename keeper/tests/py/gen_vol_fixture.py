#!/usr/bin/env python3
"""Regenerates keeper/tests/fixtures/vol_expected.csv, the independent
reference for the keeper's volatility estimators (keeper/src/vol.rs), checked
by keeper/tests/vol_fixture.rs.

    python3 -m pip install -r keeper/tests/py/requirements.txt
    python3 keeper/tests/py/gen_vol_fixture.py

Reads shared/data/SOLUSDT_1h.csv (next to the repository: ../shared from the
workspace root). For every case below it keeps the rows in [from, to]
(inclusive), computes log returns of consecutive closes inside that window
(the estimators are seeded at the window's first row), and the per-period
squared return x = r**2 / k where k = (ts - previous ts) / 3600 is the number
of hourly periods the return spans (k > 1 across the file's gaps). Then:

* ewma:     x.ewm(alpha=1 - lambda, adjust=False).mean()  (pandas; seeded
            with the first x),
* realized: x.rolling(window).mean()                      (pandas; NaN until
            a full window),
* garch:    a plain numpy loop, var = x[0]; for each x_t:
            var = omega + alpha * x_t + beta * var, the value after x_t being
            the one reported on row t (the forecast made at row t's close);
            without omega, omega = (1 - alpha - beta) * mean(x) over the
            window (variance targeting).

sigma = sqrt of that. Row 0 of a window (no return) and rolling rows without
a full window have no sigma (an empty field). To keep the file small only
every STRIDE-th row is written, plus the rows around gaps, around the start
and end, and the FTX reference row.
"""

from __future__ import annotations

import math
import pathlib

import numpy as np
import pandas as pd

HERE = pathlib.Path(__file__).resolve().parent
KEEPER = HERE.parent.parent
DATA = KEEPER.parent.parent / "shared" / "data" / "SOLUSDT_1h.csv"
OUT = KEEPER / "tests" / "fixtures" / "vol_expected.csv"
PERIOD = 3600
STRIDE = 6
REFERENCE_ROW = pd.Timestamp("2022-11-09 23:00:00")

# (method, params, from, to). Gaps in SOLUSDT_1h (last row before each):
# 2020-12-21 13:00 (+5 h), 2020-12-25 01:00 (+2 h), 2021-04-20 01:00 (+3 h),
# 2021-04-25 04:00 (+4 h), 2023-03-24 12:00 (+2 h).
CASES = [
    ("ewma", {"lambda": 0.94}, "2022-10-01 00:00:00", "2022-11-15 00:00:00"),
    ("ewma", {"lambda": 0.97}, "2023-03-20 00:00:00", "2023-03-28 00:00:00"),
    ("ewma", {"lambda": 0.94}, "2020-12-19 00:00:00", "2020-12-27 00:00:00"),
    ("realized", {"window": 24}, "2023-03-20 00:00:00", "2023-03-28 00:00:00"),
    ("realized", {"window": 6}, "2021-04-19 00:00:00", "2021-04-27 00:00:00"),
    ("realized", {"window": 168}, "2023-05-01 00:00:00", "2023-06-01 00:00:00"),
    ("garch", {"omega": 2e-6, "alpha": 0.08, "beta": 0.9}, "2021-04-19 00:00:00", "2021-04-27 00:00:00"),
    ("garch", {"alpha": 0.06, "beta": 0.92}, "2022-10-01 00:00:00", "2022-11-15 00:00:00"),
    ("garch", {"omega": 1e-6, "alpha": 0.1, "beta": 0.85}, "2020-12-19 00:00:00", "2020-12-27 00:00:00"),
]


def per_period_sq_returns(w: pd.DataFrame) -> pd.Series:
    """x_i = r_i**2 / k_i for rows 1.. of the window (index = row position)."""
    r = np.log(w["close"]).diff()
    k = w["timestamp"].diff().dt.total_seconds() / PERIOD
    return (r**2 / k).iloc[1:]


def variances(method: str, params: dict, x: pd.Series) -> np.ndarray:
    if method == "ewma":
        lam = params["lambda"]
        return x.ewm(alpha=1 - lam, adjust=False).mean().to_numpy()
    if method == "realized":
        return x.rolling(params["window"]).mean().to_numpy()
    if method == "garch":
        a, b = params["alpha"], params["beta"]
        xs = x.to_numpy()
        omega = params.get("omega", (1 - a - b) * xs.mean())
        out = np.empty_like(xs)
        var = xs[0]
        for t, xt in enumerate(xs):
            var = omega + a * xt + b * var
            out[t] = var
        return out
    raise ValueError(method)


def fmt_params(params: dict) -> str:
    return ";".join(f"{k}={v!r}" for k, v in params.items())


def main() -> None:
    df = pd.read_csv(DATA)
    df["timestamp"] = pd.to_datetime(df["timestamp"], format="%Y-%m-%d %H:%M:%S")
    assert df["timestamp"].diff().dt.total_seconds().mode()[0] == PERIOD
    lines = ["method,params,from,to,ts,sigma"]
    for method, params, start, end in CASES:
        w = df[(df["timestamp"] >= pd.Timestamp(start)) & (df["timestamp"] <= pd.Timestamp(end))]
        w = w.reset_index(drop=True)
        var = np.concatenate([[np.nan], variances(method, params, per_period_sq_returns(w))])
        step = w["timestamp"].diff().dt.total_seconds().to_numpy()
        gaps = {i for i in range(1, len(w)) if step[i] != PERIOD}
        keep = set(range(0, len(w), STRIDE)) | {1, 2, len(w) - 1}
        for g in gaps:
            keep |= set(range(g - 1, min(g + 4, len(w))))
        if method == "realized":
            n = params["window"]
            keep |= {n - 1, n, n + 1}
        keep |= set(np.flatnonzero(w["timestamp"] == REFERENCE_ROW))
        for i in sorted(keep):
            v = var[i]
            sigma = "" if math.isnan(v) else repr(float(math.sqrt(v)))
            ts = w["timestamp"][i].strftime("%Y-%m-%d %H:%M:%S")
            lines.append(f"{method},{fmt_params(params)},{start},{end},{ts},{sigma}")
        print(f"{method} {fmt_params(params)} [{start}, {end}]: {len(w)} rows, {len(gaps)} gap(s), {len(keep)} written")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT} ({len(lines) - 1} rows)")


if __name__ == "__main__":
    main()
