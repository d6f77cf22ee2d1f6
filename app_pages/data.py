"""Data and model: choose the model, the labeled dataset and the template, preview the exact
contrast pairs, extract, and manage cached activation sets."""

import dataclasses

import pandas as pd
import streamlit as st

from core.config import BUNDLED, DatasetSpec, ExtractConfig, ModelSpec, Template, from_dict
from core.data import load_csv_bytes, save_upload
from core.errors import UserError
from core.extract import activation_key, extract
from core.prompts import render_pair, validate_template
from core.store import ActivationStore
from ui.cache import cached_dataset_summary, cached_tokenizer, model_loader
from ui.progress import progress_callback
from ui.render import highlighted_pair
from ui.state import current_extract, current_sweep, set_extract, set_sweep

st.title("Data and model")
current = current_extract()

st.subheader("1. Model")
bundled = st.radio("Model", ["Bundled SmolLM2-135M-Instruct (offline)", "Hugging Face id or local folder"],
                   index=0 if current.model.model_id == BUNDLED else 1, horizontal=True)
model = ModelSpec()
if bundled.startswith("Hugging"):
    columns = st.columns([3, 1, 1])
    model_id = columns[0].text_input("Model id or folder", "" if current.model.model_id == BUNDLED
                                     else current.model.model_id, placeholder="EleutherAI/pythia-160m")
    dtype = columns[1].selectbox("dtype", ["auto", "float32", "bfloat16", "float16"],
                                 help="auto: float32 on CPU, bfloat16 (or float16) on a GPU.")
    trust = columns[2].checkbox("Trust remote code", current.model.trust_remote_code,
                                help="Runs Python code from the model's hub repository. Off unless you trust it.")
    model = ModelSpec(model_id=model_id.strip() or BUNDLED, dtype=dtype, trust_remote_code=trust)

st.subheader("2. Labeled data")
sources = {"bundled": "Rotten Tomatoes snippets (bundled)", "hf": "Hugging Face dataset", "csv": "CSV upload"}
source = st.radio("Dataset", list(sources), format_func=sources.get, horizontal=True,
                  index=list(sources).index(current.dataset.source))
dataset = DatasetSpec()
if source == "hf":
    shown = current.dataset if current.dataset.source == "hf" else DatasetSpec("hf", "imdb", split="test")
    c = st.columns(3)
    dataset = DatasetSpec("hf", c[0].text_input("Dataset id or folder", shown.name),
                          c[1].text_input("Config", shown.config or "") or None, c[2].text_input("Split", shown.split),
                          c[0].text_input("Text column", shown.text_column),
                          c[1].text_input("Label column", shown.label_column),
                          c[2].text_input("Positive label (optional)", shown.positive_label or "") or None)
elif source == "csv":
    upload = st.file_uploader("CSV file with a text column and a binary label column (50 MB at most)", type=["csv"])
    if upload is not None:
        data = upload.getvalue()
        try:
            columns = list(pd.read_csv(upload, nrows=5).columns)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            columns = []
            st.error(f"{upload.name} is not a readable CSV file: {error}")
        if columns:
            c = st.columns(3)
            text_column = c[0].selectbox("Text column", columns,
                                         index=columns.index("text") if "text" in columns else 0)
            label_column = c[1].selectbox("Label column", columns,
                                          index=columns.index("label") if "label" in columns else len(columns) - 1)
            positive = c[2].text_input("Positive label (only for non-0/1 labels)") or None
            try:
                load_csv_bytes(data, text_column, label_column, positive, upload.name)
                dataset = DatasetSpec("csv", str(save_upload(data)), None, "train", text_column, label_column, positive)
            except UserError as error:
                st.error(str(error))
    if dataset.source != "csv":
        st.caption("Until a valid file is uploaded, the current dataset stays in use.")
        dataset = current.dataset

st.subheader("3. Template")
c = st.columns([4, 1, 1])
template = Template(c[0].text_area("Prompt, with one {text} slot", current.template.prompt, height=80),
                    c[1].text_input("+ completion", current.template.positive, help="Leading spaces count."),
                    c[2].text_input("− completion", current.template.negative, help="Leading spaces count."))

st.subheader("4. Extraction")
c = st.columns(4)
n_examples = c[0].number_input("Examples (balanced)", 20, 100_000, current.n_examples, step=100)
max_tokens = c[1].number_input("Max tokens per prompt", 16, 8192, current.max_tokens)
float16 = c[2].checkbox("Store float16", current.storage_dtype == "float16", help="Halves disk use; stated in "
                        "the metadata. Hidden states are still computed in the model's dtype.")
layer = c[3].number_input("Layer to probe", 0, 500, current_sweep().layer,
                          help="Hidden-state index: 0 = embeddings, i = output of block i. All layers are stored.")
candidate = ExtractConfig(model=model, dataset=dataset, template=template, n_examples=int(n_examples),
                          max_tokens=int(max_tokens), storage_dtype="float16" if float16 else "float32")

st.subheader("Preview: three contrast pairs and their final tokens")
try:
    validate_template(template)
    summary = cached_dataset_summary(dataset)
    st.caption(f"{summary['description']}: {summary['n']:,} examples, {summary['negatives']:,} with label 0 and "
               f"{summary['positives']:,} with label 1 (1 = the + completion is true).")
    tokenizer = cached_tokenizer(model)
    for text in summary["examples"]:
        highlighted_pair(template, text)
        pos, neg = render_pair(template, text)
        st.caption("last three tokens: " + " / ".join(
            str([tokenizer.decode([token]) for token in tokenizer(prompt)["input_ids"][-3:]]) for prompt in (pos, neg)))
    valid = True
except UserError as error:
    st.error(str(error))
    valid = False

store = ActivationStore()
cached = valid and store.has(activation_key(candidate))
buttons = st.columns([1, 1, 3])
if buttons[0].button("Use these settings", disabled=not valid, type="primary"):
    set_extract(candidate)
    set_sweep(dataclasses.replace(current_sweep(), layer=int(layer)))
    st.toast("Settings in use; the sweep pages will extract on their first run" if not cached else
             "Settings in use; activations already cached")
if buttons[1].button("Extract now", disabled=not valid or cached, help="Already cached" if cached else None):
    set_extract(candidate)
    set_sweep(dataclasses.replace(current_sweep(), layer=int(layer)))
    st.caption("Clicking anything on the page stops the extraction; nothing partial is cached.")
    try:
        with st.status("Extracting hidden states", expanded=True) as status:
            outcome = extract(candidate, store, progress=progress_callback("Forward passes"), status=status.write,
                              loader=model_loader)
            status.update(label=f"Extracted in {outcome.seconds:.0f} s", state="complete", expanded=False)
    except UserError as error:
        st.error(str(error))

st.subheader("Cached activation sets")
entries = store.entries()
if not entries:
    st.caption("None yet.")
else:
    listing = pd.DataFrame([{
        "created": pd.to_datetime(e.get("created", 0), unit="s").strftime("%Y-%m-%d %H:%M"),
        "model": e.get("model_name", "?"), "dataset": e.get("dataset_description", "?"), "examples": e["n"],
        "layers": len(e["layers"]), "dtype": e.get("identity", {}).get("storage_dtype", "?"),
        "MB": round(e["size_bytes"] / 1e6, 1), "key": e["key"][:12]} for e in entries])
    event = st.dataframe(listing, hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key="cached_sets")
    if event and event.selection.rows:
        entry = entries[event.selection.rows[0]]
        c = st.columns([1, 1, 3])
        if c[0].button("Use this set"):
            if "config" not in entry:
                st.error("This set was made by an older version and does not record its settings.")
            else:
                set_extract(from_dict(ExtractConfig, entry["config"]))
                st.toast("Activation set in use")
        confirm = c[2].checkbox("Yes, delete it")
        if c[1].button("Delete", disabled=not confirm):
            store.delete(entry["key"])
            st.rerun()
