"""Data and model: choose the model, the labeled dataset and the template, preview the exact
contrast pairs, extract, and manage cached activation sets."""

import dataclasses
from pathlib import Path

import pandas as pd
import streamlit as st

from core.config import BUNDLED, DatasetSpec, ExtractConfig, ModelSpec, Template, from_dict
from core.data.bundled import BUNDLED_DATASETS, named_templates
from core.data.ensembles import with_templates
from core.data.prompts import MAX_DISTRACTOR_CHARS, render_pair
from core.data.sampling import check_balanced_counts
from core.data.uploads import load_csv_bytes, save_upload
from core.errors import UserError, short_path
from core.extraction.extract import activation_key, extract
from core.models import OFFLINE_MODELS, model_label, offline_model_id
from core.models.depth import depth_label, depth_layer
from core.models.known import known_hidden_states
from core.names import is_local_path, local_or_id
from core.settings.schema import bound_of
from core.settings.validate import check_extract
from core.store.activation_imports import imported_sets
from core.store.activations import ActivationStore
from core.views.export import safe_frame
from ui.cache import cached_dataset_summary, cached_tokenizer
from ui.forms import setting_input
from ui.progress import dashboard_runtime, progress_callback
from ui.render import highlighted_pair, plain, show_error
from ui.serving import limits, shared, uploads_folder
from ui.state import current_extract, current_import, current_sweep, model_name, set_extract, set_import, set_sweep

st.title("Data and model")
current = current_extract()
SHARED = shared()
if current_import() is not None:
    st.info(
        plain(
            f"The pages work on the imported set {current_import().id} (listed at the bottom of this page). "
            "Use these settings or Extract now below returns them to an extraction here."
        )
    )


def offline_choice(model_id: str) -> str:
    """An offline model as the model list shows it: label, size, depth, whether installed."""
    entry = OFFLINE_MODELS[model_id]
    state = "" if entry.installed else "; not installed"
    return f"{entry.label} ({entry.parameters} parameters, {entry.blocks} layers{state})"


def install_hint(model_id: str) -> str:
    """How the owner installs an offline model; a shared server's visitors cannot."""
    if SHARED:
        return "Only the owner of this server can install it."
    entry = OFFLINE_MODELS[model_id]
    terms = f"; installing accepts the {entry.license}" if entry.accept_license else ""
    return f"Install it with: {entry.install_command(model_id)}{terms}."


def typed_name(text: str) -> str:
    """A model or dataset field as a config value: on the owner's server an existing path
    becomes absolute (core.names.local_or_id); a shared server never looks at its disk."""
    return text.strip() if SHARED else local_or_id(text.strip())


st.subheader("1. Model")
hub_label = "Hugging Face id" if SHARED else "Hugging Face id or local folder"
offline_label = "Offline model"
current_offline = offline_model_id(current.model.model_id)
kind = st.radio("Model", [offline_label, hub_label], index=0 if current_offline else 1, horizontal=True)
model = ModelSpec()
if kind == offline_label:
    model_ids = list(OFFLINE_MODELS)
    chosen = st.selectbox(
        "Offline model",
        model_ids,
        index=model_ids.index(current_offline) if current_offline else 0,
        format_func=offline_choice,
        key="data_offline_model",
        help="Models shipped as GGUF files in PyPI packages, converted once to safetensors. "
        "SmolLM2 is installed with the lab; Gemma 3 270M is opt-in (Gemma Terms of Use).",
    )
    model = ModelSpec(model_id=chosen)
    if not OFFLINE_MODELS[chosen].installed:
        st.info(plain(f"{OFFLINE_MODELS[chosen].label} is not installed here. {install_hint(chosen)}"))
else:
    columns = st.columns([3, 1, 1])
    shown_id = (
        ""
        if current_offline
        else (model_name(current) if is_local_path(current.model.model_id) and SHARED else current.model.model_id)
    )
    model_id = columns[0].text_input(
        "Model id" if SHARED else "Model id or folder", shown_id, placeholder="EleutherAI/pythia-160m"
    )
    dtype = setting_input(columns[1], "dtype", current.model.dtype, "data_dtype")
    trust = columns[2].checkbox(
        "Trust remote code",
        False if SHARED else current.model.trust_remote_code,
        disabled=SHARED,
        help="Off on a shared server. Runs Python code from the model's hub repository; "
        "tick it only if you trust its authors.",
    )
    model = ModelSpec(model_id=typed_name(model_id) or BUNDLED, dtype=dtype, trust_remote_code=trust and not SHARED)

st.subheader("2. Labeled data")
sources = {"bundled": "Bundled (offline)", "hf": "Hugging Face dataset", "csv": "CSV upload"}
source = st.radio(
    "Dataset",
    list(sources),
    format_func=sources.get,
    horizontal=True,
    index=list(sources).index(current.dataset.source),
)
dataset = DatasetSpec()
shown_template = current.template
if source == "bundled":
    names = list(BUNDLED_DATASETS)
    name = st.selectbox(
        "Bundled data set",
        names,
        format_func=lambda n: BUNDLED_DATASETS[n].label,
        index=names.index(current.dataset.name) if current.dataset.name in names else 0,
        key="data_bundled_name",
        help="Snippet sets of Hutto & Gilbert (2014), and true/false "
        "statements generated offline. Each comes with its template.",
    )
    dataset = DatasetSpec(BUNDLED, name)
    if dataset != current.dataset:  # another bundled set starts from its own template
        shown_template = BUNDLED_DATASETS[name].template
elif source == "hf":
    shown = current.dataset if current.dataset.source == "hf" else DatasetSpec("hf", "imdb", split="test")
    c = st.columns(3)
    dataset = DatasetSpec(
        "hf",
        typed_name(
            c[0].text_input(
                "Dataset id" if SHARED else "Dataset id or folder", Path(shown.name).name if SHARED else shown.name
            )
        ),
        c[1].text_input("Config", shown.config or "") or None,
        c[2].text_input("Split", shown.split),
        c[0].text_input("Text column", shown.text_column),
        c[1].text_input("Label column", shown.label_column),
        c[2].text_input("Positive label (optional)", shown.positive_label or "") or None,
    )
elif source == "csv":
    upload = st.file_uploader(
        "CSV file with a text column and a binary label column (50 MB at most)",
        type=["csv"],
        help="Kept with this browser session only." if SHARED else "Kept in the cache under the sha256 of its bytes.",
    )
    if upload is not None:
        data = upload.getvalue()
        try:
            columns = [str(name) for name in pd.read_csv(upload, nrows=5).columns]
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as error:
            columns = []
            show_error(f"{upload.name} is not a readable CSV file: {error}")
        if len(set(columns)) != len(columns):
            show_error(f"{upload.name} repeats a column name; give each column its own name.")
            columns = []
        if columns:
            c = st.columns(3)
            text_column = c[0].selectbox(
                "Text column", columns, index=columns.index("text") if "text" in columns else 0
            )
            label_column = c[1].selectbox(
                "Label column", columns, index=columns.index("label") if "label" in columns else len(columns) - 1
            )
            positive = c[2].text_input("Positive label (only for non-0/1 labels)") or None
            try:
                load_csv_bytes(data, text_column, label_column, positive, upload.name)
                dataset = DatasetSpec(
                    "csv", save_upload(data, uploads_folder()), None, "train", text_column, label_column, positive
                )
            except UserError as error:
                show_error(error)
    if dataset.source != "csv":
        st.caption("Until a valid file is uploaded, the current dataset stays in use.")
        dataset = current.dataset

st.subheader("3. Template")
family = named_templates(dataset)
start = st.selectbox(
    "Start from",
    list(family),
    index=None,
    placeholder="a named template (optional)",
    format_func=lambda name: family[name].label,
    key="data_template_preset",
)
if start is not None and family[start].template != current.template:
    set_extract(dataclasses.replace(current, template=family[start].template, templates=()))
    st.rerun()
c = st.columns([4, 1, 1])
prompt = c[0].text_area("Prompt, with one {text} slot", shown_template.prompt, height=80)
positive = c[1].text_input("+ completion", shown_template.positive, help="Leading spaces count.")
negative = c[2].text_input("− completion", shown_template.negative, help="Leading spaces count.")
d = st.columns([2, 1, 1, 2])
words = current.template.distractor or ("Banana", "Shed")
distracted = d[0].checkbox(
    "Distractor words",
    current.template.distractor is not None,
    help="Farquhar et al. 2023: one side of every pair ends with the first word and the other "
    "with the second, which side drawn at random for half of each class, so the words flip "
    "between x+ and x- as truth does but carry none of it. The sweep page then reports "
    "whether each probe found truth or the words.",
)
first = d[1].text_input("First word", words[0], max_chars=MAX_DISTRACTOR_CHARS, disabled=not distracted)
second = d[2].text_input("Second word", words[1], max_chars=MAX_DISTRACTOR_CHARS, disabled=not distracted)
template = Template(prompt, positive, negative, (first, second) if distracted else None)
ensemble = st.multiselect(
    "Template ensemble (optional)",
    list(family),
    default=[name for name in current.templates if name in family],
    format_func=lambda name: f"{name}: {family[name].label}",
    key="data_templates",
    help="Train on several of this data set's named templates at once, as elk does: hidden states per "
    "template, each side centered per template, one probe fitted on the pairs of all of them, each test "
    "pair's log-odds averaged over its templates. Each template is extracted once and cached on its own. "
    "Pick two or more; the prompt above is then the first of them.",
)

st.subheader("4. Extraction")
c = st.columns(4)
n_examples = setting_input(c[0], "n_examples", current.n_examples, "data_n_examples")
max_tokens = setting_input(c[1], "max_tokens", current.max_tokens, "data_max_tokens")
float16 = c[2].checkbox(
    "Store float16",
    current.storage_dtype == "float16",
    help="Halves disk use; stated in the metadata. Hidden states are still computed in the model's dtype.",
)
depth = known_hidden_states(model) if offline_model_id(model.model_id) else None
layer = setting_input(
    c[3],
    "layer",
    depth_layer(75, depth) if depth and model != current.model else current_sweep().layer,
    f"data_layer_{model.model_id}",  # another model starts at its own 75% depth
    "Layer to probe",
    help="The layer to probe, as a hidden-state index: 0 = embeddings, i = output of block i. All layers are stored.",
)
if depth:
    c[3].caption(
        depth_label(int(layer), depth) if layer < depth else f"{model_label(model.model_id)} has layers 0..{depth - 1}"
    )
candidate = ExtractConfig(
    model=model,
    dataset=dataset,
    template=template,
    n_examples=int(n_examples),
    max_tokens=int(max_tokens),
    storage_dtype="float16" if float16 else "float32",
)
candidate = with_templates(candidate, tuple(ensemble))

st.subheader("Preview: three contrast pairs and their final tokens")
try:
    check_extract(candidate, limits())
    summary = cached_dataset_summary(dataset, str(uploads_folder()))
    st.caption(
        plain(
            f"{short_path(summary['description'])}: {summary['n']:,} examples, {summary['negatives']:,} "
            f"with label 0 and {summary['positives']:,} with label 1 (1 = the + completion is "
            f"true). Duplicate texts are dropped on load, so none is both trained on and tested."
        )
    )
    tokenizer = cached_tokenizer(model)
    for text in summary["examples"]:
        highlighted_pair(template, text)
        pos, neg = render_pair(template, text)
        st.text(
            "last three tokens: "
            + " / ".join(
                str([tokenizer.decode([token]) for token in tokenizer(prompt)["input_ids"][-3:]])
                for prompt in (pos, neg)
            )
        )
    most = 2 * min(summary["negatives"], summary["positives"])
    fix = (
        f"lower 'Examples to extract' to at most {most:,}"
        if most >= bound_of("n_examples").low
        else f"this data is too small: a run needs at least {bound_of('n_examples').low // 2:g} examples of each label"
    )
    check_balanced_counts((summary["negatives"], summary["positives"]), candidate.n_examples, fix)
    valid = True
except UserError as error:
    show_error(error)
    valid = False

store = ActivationStore()
cached = valid and store.has(activation_key(candidate))
buttons = st.columns([1, 1, 3])
if buttons[0].button("Use these settings", disabled=not valid, type="primary"):
    set_extract(candidate)
    set_sweep(dataclasses.replace(current_sweep(), layer=int(layer)))
    st.toast(
        "Settings in use; the sweep pages will extract on their first run"
        if not cached
        else "Settings in use; activations already cached"
    )
if buttons[1].button("Extract now", disabled=not valid or cached, help="Already cached" if cached else None):
    set_extract(candidate)
    set_sweep(dataclasses.replace(current_sweep(), layer=int(layer)))
    st.caption("Clicking anything on the page stops the extraction; nothing partial is cached.")
    try:
        with st.status("Extracting hidden states", expanded=True) as status:
            runtime = dashboard_runtime(
                activations=store,
                extract_progress=progress_callback("Forward passes"),
                status=lambda message: status.write(plain(message)),
            )
            outcome = extract(candidate, runtime)
            status.update(label=f"Extracted in {outcome.seconds:.0f} s", state="complete", expanded=False)
    except UserError as error:
        show_error(error)

st.subheader("Cached activation sets")
entries = store.entries()
if not entries:
    st.caption("None yet.")
else:
    listing = safe_frame(
        pd.DataFrame(
            [
                {
                    "created": pd.to_datetime(float(e.get("created") or 0), unit="s").strftime("%Y-%m-%d %H:%M"),
                    "model": short_path(str(e.get("model_name", "?"))),
                    "dataset": "damaged: set aside on its next load"
                    if e.get("damaged")
                    else short_path(str(e.get("dataset_description", "?"))),
                    "examples": e.get("n"),
                    "layers": len(e.get("layers") or []),
                    "dtype": (e.get("identity") or {}).get("storage_dtype", "?"),
                    "MB": round(e["size_bytes"] / 1e6, 1),
                    "key": e["key"][:12],
                }
                for e in entries
            ]
        )
    )
    event = st.dataframe(
        listing, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row", key="cached_sets"
    )
    if event and event.selection.rows:
        entry = entries[event.selection.rows[0]]
        c = st.columns([1, 1, 3])
        if c[0].button(
            "Use this set",
            disabled=bool(entry.get("companion")),
            help="Pairs extracted alongside another set for a remedy; use that set."
            if entry.get("companion")
            else None,
        ):
            try:
                config = from_dict(ExtractConfig, entry["config"])
                check_extract(config, limits())
            except UserError as error:
                show_error(f"This set cannot be used here: {error}")
            except (KeyError, TypeError, ValueError):
                show_error("This set cannot be used here: its recorded settings are missing or unreadable.")
            else:
                set_extract(config)
                st.toast("Activation set in use")
        if not SHARED:  # visitors of a shared server do not delete what others computed
            confirm = c[2].checkbox("Yes, delete it")
            if c[1].button("Delete", disabled=not confirm):
                store.delete(entry["key"])
                st.rerun()

st.subheader("Imported activation sets")
imports = imported_sets()
if not imports:
    st.caption(
        "None. Hidden states extracted elsewhere (a GPU machine, TransformerLens, nnsight) come in as an activation "
        "file: python -m core import-activations FILE (docs: the activation file)."
    )
else:
    st.caption(
        "Extracted elsewhere and imported here: each keeps its origin, lives apart from this machine's sets with "
        "every sweep trained on it, and is removed with python -m core import-activations --remove ID."
    )
    in_use = current_import()
    imported_listing = safe_frame(
        pd.DataFrame(
            [
                {
                    "in use": in_use is not None and each.id == in_use.id,
                    "id": each.id,
                    "model": each.model,
                    "pairs": each.n,
                    "layers": ", ".join(map(str, each.layers)),
                    "origin": each.origin(),
                }
                for each in imports
            ]
        )
    )
    picked = st.dataframe(
        imported_listing,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="imported_sets",
    )
    if picked and picked.selection.rows and st.button("Use this imported set", type="primary"):
        chosen_import = imports[picked.selection.rows[0]]
        set_import(chosen_import.id)
        if current_sweep().layer not in chosen_import.layers:
            set_sweep(dataclasses.replace(current_sweep(), layer=chosen_import.layers[-1]))
        st.toast("Imported set in use: the sweep, inspector, layers and remedies pages work on it")
