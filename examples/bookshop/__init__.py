"""A small bookshop pipeline split over modules, as real projects are: heraspec carries the modules each
task uses (relative and absolute imports alike) into its pod; `tabulate` is a declared package."""
