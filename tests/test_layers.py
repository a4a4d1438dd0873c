"""The README's picture of the layers is true: no module imports from a layer above its own, there is
no import circle, and imports sit at the top of files."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# module -> layer, as drawn in the README (0 at the bottom); a module not named is in its package's row
LAYERS = {
    'nanopushkin.models': 0, 'tokenizer': 0, 'nanopushkin.config': 0, 'nanopushkin.devices': 0,
    'nanopushkin.verse': 0, 'nanopushkin.optim': 0, 'nanopushkin.files': 0,
    'nanopushkin.trainer': 1, 'nanopushkin.sampling': 1, 'nanopushkin.checkpoint': 1, 'nanopushkin.hf': 1,
    'nanopushkin.constraints': 1, 'nanopushkin.stanza': 1, 'nanopushkin.threads': 1, 'nanopushkin.stress': 1,
    'nanopushkin.prepare': 1, 'nanopushkin.data': 1, 'nanopushkin.corpus': 1, 'nanopushkin.corpus_stats': 1,
    'nanopushkin.hub': 1, 'nanopushkin.download': 1, 'nanopushkin.safetensors': 1,
    'nanopushkin.compare': 2, 'nanopushkin.style': 2, 'nanopushkin.playground': 2,
}
CLI_LAYER = 3


def module_name(path: Path) -> str:
    return '.'.join(path.relative_to(ROOT).with_suffix('').parts).removesuffix('.__init__')


def library_files():
    return sorted((ROOT / 'nanopushkin').rglob('*.py')) + sorted((ROOT / 'tokenizer').rglob('*.py'))


def layer(module: str) -> int | None:
    while module:
        if module in LAYERS:
            return LAYERS[module]
        module = module.rpartition('.')[0]
    return None


def project_imports(path: Path):
    """(imported project module, line, at top level?) for each import of nanopushkin or tokenizer."""
    tree = ast.parse(path.read_text(encoding='utf-8'))
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:   # `from pkg import module` imports module
            names = [f'{node.module}.{a.name}' if f'{node.module}.{a.name}' in MODULES else node.module
                     for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.split('.')[0] in ('nanopushkin', 'tokenizer') and layer(name) is not None:
                yield name, node.lineno, id(node) in top


MODULES = {module_name(path) for path in library_files()}


def test_no_module_imports_from_a_layer_above_its_own():
    upward = []
    for path in library_files():
        own = layer(module_name(path))
        assert own is not None, f'{path.name} is in no layer of the README picture: add it to LAYERS'
        for name, line, _ in project_imports(path):
            if layer(name) > own:
                upward.append(f'{path.relative_to(ROOT)}:{line} imports {name}')
    assert not upward, '\n'.join(upward)


def test_no_import_circle():
    graph = {}
    for path in library_files():
        graph[module_name(path)] = {name for name, _, _ in project_imports(path)} & MODULES

    def visit(module, stack):
        assert module not in stack, 'import circle: ' + ' -> '.join(stack + [module])
        for dep in graph.get(module, ()):
            visit(dep, stack + [module])
    for module in graph:
        visit(module, [])


def test_project_imports_sit_at_the_top_of_library_files():
    inside = [f'{path.relative_to(ROOT)}:{line} imports {name}' for path in library_files()
              for name, line, at_top in project_imports(path) if not at_top]
    assert not inside, '\n'.join(inside)
