"""Bills of materials as a graph (pure, no I/O): a product may not, through its components, contain itself."""


def cycle_through(edges: dict[str, set[str]], product_id: str, components: list[str]) -> list[str] | None:
    """The path product -> ... -> product that giving `product_id` these components would close, or None.

    `edges` maps each product to the components of its bill of materials as it is now (the product's own old list
    is ignored: it is being replaced)."""
    graph = {p: set(c) for p, c in edges.items() if p != product_id}
    graph[product_id] = set(components)
    path: list[str] = []
    on_path: set[str] = set()
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in on_path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        path.append(node)
        on_path.add(node)
        for nxt in sorted(graph.get(node, ())):
            found = visit(nxt)
            if found:
                return found
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    return visit(product_id)
