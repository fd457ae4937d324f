"""`bench forecasting`'s reference: statsforecast's AutoETS (and SeasonalNaive)
on the same CSV Tarefa reads (unique_id, ds, y), the last H points of each
series held out. Prints one JSON line: seconds and mean MASE (scale: the
in-sample MAE of the seasonal naive, m=7), as Tarefa's side computes it."""
import json, sys, time

import numpy as np
import pandas as pd
import statsforecast
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, SeasonalNaive

path, h, m, n_jobs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
df = pd.read_csv(path, parse_dates=["ds"])
df = df.sort_values(["unique_id", "ds"])
test = df.groupby("unique_id").tail(h)
train = df.drop(test.index)
sf = StatsForecast(models=[AutoETS(season_length=m), SeasonalNaive(season_length=m)], freq="D", n_jobs=n_jobs)
t0 = time.perf_counter()
fc = sf.forecast(df=train, h=h)
secs = time.perf_counter() - t0
fc = fc.reset_index() if "unique_id" not in fc.columns else fc
mase = {"AutoETS": [], "SeasonalNaive": []}
for uid, tr in train.groupby("unique_id"):
    y = tr["y"].to_numpy()
    scale = np.mean(np.abs(y[m:] - y[:-m]))
    actual = test[test.unique_id == uid]["y"].to_numpy()
    f = fc[fc.unique_id == uid]
    for k in mase:
        mase[k].append(np.mean(np.abs(actual - f[k].to_numpy())) / scale)
print(json.dumps({"version": statsforecast.__version__, "secs": secs, "series": len(mase["AutoETS"]),
                  "mase_autoets": float(np.mean(mase["AutoETS"])),
                  "mase_seasonal_naive": float(np.mean(mase["SeasonalNaive"]))}))
