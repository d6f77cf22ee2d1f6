"""CCS Imbalance Lab: contrast-pair probes (CCS and baselines) on language-model hidden
states, and how the ground-truth label balance of their training data changes them.

The library never imports streamlit; the dashboard (app.py, app_pages/, ui/) sits on top of it.
"""

__version__ = "0.1.0"
