/// A parsed XML element as plain Swift values: name, the text directly inside it, child elements.
public struct XMLElement: Sendable, Equatable {
    /// The name as written, prefix included (`soap:Body`).
    public var name: String
    /// Text and CDATA directly inside this element (not inside its children), concatenated, XML whitespace trimmed.
    public var text: String
    public var children: [XMLElement]

    public init(name: String, text: String = "", children: [XMLElement] = []) {
        self.name = name
        self.text = text
        self.children = children
    }
}

// Lookups are case-sensitive because XML names are; providers that drift in case must say so themselves.
extension XMLElement {
    /// The first direct child called `name`.
    public func child(_ name: String) -> XMLElement? {
        children.first { $0.name == name }
    }

    /// Every direct child called `name`, in document order.
    public func children(named name: String) -> [XMLElement] {
        children.filter { $0.name == name }
    }

    /// The first element called `name` below this one, depth-first in document order (self excluded).
    public func firstDescendant(named name: String) -> XMLElement? {
        var found: XMLElement?
        walkDescendants { element in
            guard element.name == name else { return true }
            found = element
            return false
        }
        return found
    }

    /// Every element called `name` below this one, depth-first in document order (self excluded).
    public func descendants(named name: String) -> [XMLElement] {
        var found: [XMLElement] = []
        walkDescendants { element in
            if element.name == name { found.append(element) }
            return true
        }
        return found
    }

    /// Follows first direct children by name: `root.path("Header", "SuccessCode")`. No names gives `self`.
    public func path(_ names: String...) -> XMLElement? {
        path(names)
    }

    public func path(_ names: [String]) -> XMLElement? {
        var current = self
        for name in names {
            guard let next = current.child(name) else { return nil }
            current = next
        }
        return current
    }

    /// Pre-order walk with an explicit stack, so depth costs heap, not call stack. `visit` returns false to stop.
    private func walkDescendants(_ visit: (XMLElement) -> Bool) {
        var pending: [XMLElement] = children.reversed()
        while let element = pending.popLast() {
            guard visit(element) else { return }
            pending.append(contentsOf: element.children.reversed())
        }
    }
}
