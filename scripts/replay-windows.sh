#!/usr/bin/env bash
# The replay across windows (issue 17): SOL crashes, BTC and ETH crashes,
# calm months, and variants of FTX (a keeper outage, twice the liquidators'
# capacity, ten times the depth, a book that builds up over time). Writes
# one `--json` per run under target/replay/windows/, their summaries in
# target/replay/windows.json, and prints the table (markdown).
#
#   bash scripts/replay-windows.sh            # every window (about 7 min)
#   ONLY=ftx bash scripts/replay-windows.sh   # the runs whose name matches
#                                             # (windows.json: those only)
#
# Window rules (computed here from the files, so they are reproducible):
# * SOL crashes: for every hour t of ../shared/data/SOLUSDT_1h.csv from
#   2020-09 on (a week of warm-up), the fall from t's close to the lowest
#   low of the next 7 days; the deepest N_CRASHES falls whose starts are at
#   least 30 days apart; each replayed from 3 days before t to 10 days
#   after. FTX (2022-11-01..20) and LUNA (2022-05-01..20) are replayed as
#   named windows too.
# * BTC 4 h (../shared/data/BTCUSDT_4h.csv): COVID 2020-03-05..25,
#   2021-05-12..31, 2022-06-05..25, 2022-11-01..20.
# * ETH and BTC 1 h (../shared/data/BTC_ETH_USDT_1h_2020-02-15_2020-04-15.csv,
#   `--symbol`): COVID 2020-03-05..25, also with ten times the depth.
# * Calm months: the N_CALM calendar months of SOL from 2021 on with the
#   lowest realised volatility of hourly log returns.
# BTC and ETH prices go through the definition's collateral reserve (named
# SOL; the name is cosmetic: the replay writes the file's price) with the
# stress definition's BTC depth ($100M a day) for both.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
OUT=target/replay/windows
N_CRASHES=${N_CRASHES:-12}
N_CALM=${N_CALM:-6}
mkdir -p "$OUT"
cargo build -q --release -p ballast-keeper
BIN=target/release/ballast-keeper

# name|file|from|to|extra args
python3 - "$DATA" "$N_CRASHES" "$N_CALM" > "$OUT/plan.txt" <<'EOF'
import csv, math, sys, datetime as dt
data, n_crashes, n_calm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fmt = "%Y-%m-%d %H:%M:%S"
rows = list(csv.DictReader(open(f"{data}/SOLUSDT_1h.csv")))
ts = [dt.datetime.strptime(r["timestamp"], fmt) for r in rows]
close = [float(r["close"]) for r in rows]
low = [float(r["low"]) for r in rows]
start = dt.datetime(2020, 9, 1)
# Fall from the close at t to the lowest low of the next 168 hours
# (a monotone deque of lows over the forward window).
from collections import deque
n = len(rows)
fall = [0.0] * n
q = deque()
j = 0
for i in range(n):
    while j < n and (ts[j] - ts[i]).total_seconds() <= 7 * 86400:
        while q and low[q[-1]] >= low[j]:
            q.pop()
        q.append(j)
        j += 1
    while q and q[0] <= i:
        q.popleft()
    if q and ts[i] >= start:
        fall[i] = low[q[0]] / close[i] - 1
picked = []
for i in sorted(range(n), key=lambda i: fall[i]):
    if len(picked) == n_crashes:
        break
    if all(abs((ts[i] - ts[k]).total_seconds()) >= 30 * 86400 for k in picked):
        picked.append(i)
d = lambda t: t.strftime("%Y-%m-%d %H:00")
sol = f"{data}/SOLUSDT_1h.csv"
for k in sorted(picked, key=lambda i: ts[i]):
    t = ts[k]
    name = f"sol-crash-{t:%Y-%m-%d}({fall[k]*100:.0f}%)"
    print(f"{name}|{sol}|{d(t - dt.timedelta(days=3))}|{d(t + dt.timedelta(days=10))}|")
print(f"sol-ftx|{sol}|2022-11-01|2022-11-20|")
print(f"sol-luna|{sol}|2022-05-01|2022-05-20|")
print(f"sol-ftx-outage|{sol}|2022-11-01|2022-11-20|--outage 2022-11-08..2022-11-10")
print(f"sol-ftx-2x-capacity|{sol}|2022-11-01|2022-11-20|--capacity-usd 449958")
print(f"sol-ftx-10x-depth|{sol}|2022-11-01|2022-11-20|--depth-usd 3000000000")
print(f"sol-ftx-arrivals|{sol}|2022-11-01|2022-11-20|--arrivals")
btc4 = f"{data}/BTCUSDT_4h.csv"
for name, a, b in [("btc4h-covid", "2020-03-05", "2020-03-25"),
                   ("btc4h-2021-05", "2021-05-12", "2021-05-31"),
                   ("btc4h-2022-06", "2022-06-05", "2022-06-25"),
                   ("btc4h-2022-11", "2022-11-01", "2022-11-20")]:
    print(f"{name}|{btc4}|{a}|{b}|--depth-usd 100000000")
covid = f"{data}/BTC_ETH_USDT_1h_2020-02-15_2020-04-15.csv"
for sym in ["BTCUSDT", "ETHUSDT"]:
    print(f"{sym[:3].lower()}1h-covid|{covid}|2020-03-05|2020-03-25|--symbol {sym} --depth-usd 100000000")
for sym in ["BTCUSDT", "ETHUSDT"]:
    print(f"{sym[:3].lower()}1h-covid-10x-depth|{covid}|2020-03-05|2020-03-25|--symbol {sym} --depth-usd 1000000000")
# Calm months: lowest realised volatility of hourly log returns.
months = {}
for i in range(1, n):
    if ts[i] < dt.datetime(2021, 1, 1):
        continue
    r = math.log(close[i] / close[i - 1])
    months.setdefault((ts[i].year, ts[i].month), []).append(r)
def vol(rs):
    m = sum(rs) / len(rs)
    return math.sqrt(sum((x - m) ** 2 for x in rs) / len(rs) * 24 * 365)
full = {k: v for k, v in months.items() if len(v) >= 27 * 24}
for (y, m) in sorted(sorted(full, key=lambda k: vol(full[k]))[:n_calm]):
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    print(f"calm-{y}-{m:02d}(vol {vol(full[(y, m)])*100:.0f}%)|{sol}|{y}-{m:02d}-01|{y}-{m:02d}-{last} 23:00|")
EOF

rm -f "$OUT/done.txt.tmp"
while IFS='|' read -r name file from to extra; do
    if [[ -n "${ONLY:-}" && "$name" != *"$ONLY"* ]]; then continue; fi
    safe=$(echo "$name" | tr -c 'A-Za-z0-9.-' '_')
    echo "== $name: $from .. $to $extra" >&2
    # shellcheck disable=SC2086
    "$BIN" replay --prices "$file" --from "$from" --to "$to" --policy both \
        --json "$OUT/$safe.json" $extra > "$OUT/$safe.txt" 2>&1 ||
        { echo "$name failed:" >&2; tail -5 "$OUT/$safe.txt" >&2; exit 1; }
    echo "$name|$from|$to|$extra|$OUT/$safe.json" >> "$OUT/done.txt.tmp"
done < "$OUT/plan.txt"
mv "$OUT/done.txt.tmp" "$OUT/done.txt"

python3 - "$OUT/done.txt" > target/replay/windows.json <<'EOF'
import json, sys
out = []
for line in open(sys.argv[1]):
    name, a, b, extra, path = line.rstrip("\n").split("|")
    j = json.load(open(path))
    out.append({"window": name, "from": j["from"], "to": j["to"], "args": extra,
                "prices": j["prices"], "runs": j["runs"]})
print(json.dumps(out, indent=1))
EOF
python3 - target/replay/windows.json <<'EOF'
import json, sys
w = json.load(open(sys.argv[1]))
k = lambda x: f"{x/1e3:,.0f}k" if abs(x) >= 1e3 else f"{x:,.0f}"
print("| window | policy | bad debt $ | liquidated $ | bonus paid $ | debt lent $ | supplier income $ | mean LTV | price impact |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for x in w:
    for r in x["runs"]:
        print(f"| {x['window']} | {r['policy']} | {k(r['bad_debt_usd'])} | {k(r['liquidated_debt_usd'])} | "
              f"{k(r['bonus_paid_usd'])} | {k(r['debt_lent_usd'])} | {k(r['supplier_income_usd'])} | "
              f"{r['mean_ltv_bps']/100:.1f}% | {r['final_impact']*100:.1f}% |")
EOF
echo "wrote target/replay/windows.json" >&2
