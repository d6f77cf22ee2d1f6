"""What results look like: altair charts, the text that says how a number was computed, and
files for export. Every page, slide, CLI export and talk.html draws through here, so a
figure looks the same wherever it was made.

- style: labels, colors (Okabe & Ito), axes, chance lines, slide size
- charts: accuracy against p, runs compared, layers, grids
- pair_charts, mechanism_charts, remedy_charts: the inspector's, mechanism's and remedies' charts
- report: provenance lines, captions and the CLI's method x p table
- export: charts as PNG, SVG or HTML; tables safe for spreadsheets
"""
