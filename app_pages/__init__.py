"""The dashboard's pages, one file each, run by st.navigation in app.py: thin scripts that
read the page's state (ui.state), call core and draw. A package only so that the import
contracts (pyproject.toml) can check them; pages never import each other."""
