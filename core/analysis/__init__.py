"""What the results mean: the mechanism, per-example views, remedies and distractors.

- theory: synthetic contrast pairs with a known truth direction, and the two-point model's
  predictions (4p(1 - p) and where centering puts each class)
- mechanism: what per-side centering does along the truth direction, measured
- examples: one probe's verdict on every test pair, and one pair's verdict as p grows
- remedies: remedies beside Burns centering, and a drop split into threshold and direction
- distractors: whether a probe found truth or a distractor word
- grids: what a grid found per cell and method, and each remedy's verdict against the bar
- balance: why a label-free balancing remedy works or not, measured on training draws
- separation: how far apart the classes stand along each probe, and the limit that sets on a label-free fix
- label_budget: how many labelled pairs undo the imbalance
- grid_audit: the separation, label-free verdict and label budget of every cell of a grid
"""
