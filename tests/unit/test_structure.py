"""The house holds: no module import cycle anywhere (parent packages included, which the sibling contract in
.importlinter does not see), and nothing goes back up the layers .importlinter names."""

from __future__ import annotations

import grimp

from agent.devtools.bench.structure import graph_figures, import_cycles_of, source_root


def test_no_module_is_part_of_an_import_cycle() -> None:
    assert import_cycles_of(grimp.build_graph("agent", "strategies")) == []


def test_no_import_goes_back_up_the_layers_and_only_devtools_import_devtools() -> None:
    figures = graph_figures(source_root())
    assert figures["imports_back_up_the_layers"] == []
    assert figures["imports_of_devtools"] == []
