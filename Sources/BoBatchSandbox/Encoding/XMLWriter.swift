/// Writes XML text. Hand-written on purpose: the sandbox shares nothing with the client's parser.
struct XMLWriter {
    private(set) var text: String
    private let indented: Bool
    private var depth = 0

    init(declaration: Bool = false, indented: Bool = true, reservingCapacity capacity: Int = 0) {
        text = ""
        if capacity > 0 { text.reserveCapacity(capacity) }
        self.indented = indented
        if declaration { text += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + (indented ? "\n" : "") }
    }

    mutating func open(_ name: String) {
        pad()
        text += "<\(name)>"
        newline()
        depth += 1
    }

    mutating func close(_ name: String) {
        depth -= 1
        pad()
        text += "</\(name)>"
        newline()
    }

    mutating func leaf(_ name: String, _ value: String) {
        pad()
        text += "<\(name)>"
        text += Self.escape(value)
        text += "</\(name)>"
        newline()
    }

    mutating func element(_ name: String, _ body: (inout XMLWriter) -> Void) {
        open(name)
        body(&self)
        close(name)
    }

    private mutating func pad() {
        if indented && depth > 0 { text += String(repeating: "  ", count: depth) }
    }

    private mutating func newline() {
        if indented { text += "\n" }
    }

    static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
