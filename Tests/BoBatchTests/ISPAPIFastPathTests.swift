import Foundation
import Testing

@testable import BoBatch

/// The byte-level line split and trim of ISPAPI answers give what the Character-level split and Foundation's
/// trimming give, on the ASCII answers they take and on the others they hand back.
@Suite struct ISPAPIFastPathTests {
    static let texts = [
        "[RESPONSE]\r\ncode = 200\r\ndescription = Command completed successfully\r\nproperty[application][0] = 1234\r\nEOF\r\n",
        "[RESPONSE]\ncode=200\n\n\ndescription=ok\nEOF", "\r\n\r\n", "", "a", "a\u{0B}b\u{0C}c\rd\ne\r\n\r\nf",
        "  leading and trailing \t ", "[RESPONSE]\ncode = 540 \ndescription = Attribute value is not unique; \u{2028}next\u{85}x\u{FEFF}\nEOF",
        "\u{FEFF}[RESPONSE]\ncode = 200\nEOF", "é\r\nà\n", "x\r", "\ny",
    ]

    @Test func linesMatchTheCharacterSplit() {
        for text in Self.texts {
            let expected = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).map(String.init)
            #expect(ISPAPIResponse.lines(of: text).map(String.init) == expected, "\(text.debugDescription)")
        }
    }

    @Test func trimmedMatchesFoundation() {
        let sets: [CharacterSet] = [.whitespaces, .whitespacesAndNewlines, CharacterSet.whitespacesAndNewlines.union(CharacterSet(charactersIn: "\u{FEFF}"))]
        let pieces = ["", " ", "a", "ab c", " a", "a ", "\u{FEFF}a", "a\u{FEFF}", "\ta\n", "é", " é ", "\u{00A0}a\u{00A0}", "a\r\n", "~x!"]
        for piece in pieces {
            for set in sets {
                #expect(ISPAPIResponse.trimmed(piece, set) == piece.trimmingCharacters(in: set), "\(piece.debugDescription)")
                let sub = ("<" + piece + ">").dropFirst().dropLast()
                #expect(ISPAPIResponse.trimmed(sub, set) == sub.trimmingCharacters(in: set), "\(piece.debugDescription)")
            }
        }
    }
}
