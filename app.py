"""CCS Imbalance Lab: the Streamlit entry point. The shell (navigation with stable URL
paths, link handling, the shared sidebar) is ui/shell.py; each page lives in pages/ and
stays thin over core/."""

from ui.shell import run_app

run_app()
