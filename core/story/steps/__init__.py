"""One module per deck step type, each defining its StepType as STEP (core.story.registry
collects them): what the step's fields are, which runs it draws from, what it measures and
how it draws its slide."""
