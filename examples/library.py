"""The lab from Python: extract hidden states, sweep the label balance, draw the chart.

A small version of the demo (400 review snippets, hidden state 23 of the bundled
SmolLM2-135M-Instruct, three levels of p, three seeds): about a minute on a laptop's CPU
the first time, a few seconds from the cache after that. Every object here is one the
dashboard and `python -m core` use too; see the API reference for the rest.
"""

from core.config import ExtractConfig
from core.experiments.pipeline import run_pipeline
from core.metrics import summarize
from core.settings.sweep import SweepConfig
from core.views.charts import imbalance_chart
from core.views.export import save_chart
from core.views.report import describe_sweep, format_summary

extract = ExtractConfig(n_examples=400, layers=(23,))  # the offline model and data, one layer kept
sweep = SweepConfig(p_levels=(0.5, 0.8, 0.95), n_train=100, n_test=200, seeds=(0, 1, 2))

run = run_pipeline(extract, sweep)  # extracts (or loads from the cache), then trains every probe
summary = summarize(run.sweep.table, "accuracy")  # mean over seeds with a 95% t-interval

print(format_summary(summary))
print(describe_sweep(sweep, run.sweep.seconds, run.sweep.cached))
save_chart(imbalance_chart(summary), "accuracy_vs_p.png")
