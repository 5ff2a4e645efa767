/// `Fn::Cidr`: carves `count` consecutive subnets with `cidrBits` host bits out of an IPv4 or IPv6 block.
enum Cidr {
    /// The subnets in CIDR notation, starting at the block's network address.
    static func subnets(of block: String, count: Int, cidrBits: Int) throws(TemplateError) -> [String] {
        guard (1...256).contains(count) else { throw .invalidCidr("count must be between 1 and 256") }
        let parts = block.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let prefix = Int(parts[1]) else { throw .invalidCidr("ipBlock \(block) is not a CIDR") }
        let isIPv6 = parts[0].contains(":")
        let width = isIPv6 ? 128 : 32
        guard let address = isIPv6 ? parseIPv6(parts[0]) : parseIPv4(parts[0]), (0...width).contains(prefix) else {
            throw .invalidCidr("ipBlock \(block) is not a CIDR")
        }
        let subnetPrefix = width - cidrBits
        guard cidrBits > 0, subnetPrefix >= prefix else { throw .invalidCidr("cidrBits \(cidrBits) does not fit \(block)") }
        let available = subnetPrefix - prefix
        if available < 9, count > 1 << available { throw .invalidCidr("\(block) has room for \(1 << available) subnets") }
        let hostMask: UInt128 = prefix == 0 ? ~0 : (prefix >= width ? 0 : (UInt128(1) << UInt128(width - prefix)) - 1)
        let network = address & ~hostMask
        let step = UInt128(1) << UInt128(cidrBits)
        return (0..<count).map { i in
            let start = network + step * UInt128(i)
            return (isIPv6 ? formatIPv6(start) : formatIPv4(start)) + "/\(subnetPrefix)"
        }
    }

    /// `a.b.c.d` as a 32-bit value, or `nil`.
    private static func parseIPv4(_ text: Substring) -> UInt128? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt128 = 0
        for octet in octets {
            guard let n = UInt8(octet) else { return nil }
            value = value << 8 | UInt128(n)
        }
        return value
    }

    /// A 32-bit value as `a.b.c.d`.
    private static func formatIPv4(_ value: UInt128) -> String {
        (0..<4).map { String((value >> UInt128(8 * (3 - $0))) & 0xFF) }.joined(separator: ".")
    }

    /// IPv6 text (with `::` compression) as a 128-bit value, or `nil`.
    private static func parseIPv6(_ text: Substring) -> UInt128? {
        let halves = text.split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false)
        func groups(_ part: Substring) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard group.count <= 4, let n = UInt16(group, radix: 16) else { return nil }
                result.append(n)
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
    }

    /// RFC 5952 text: lower-case hex, leading zeros dropped, the longest run (≥2) of zero groups as `::`.
    private static func formatIPv6(_ value: UInt128) -> String {
        let groups = (0..<8).map { UInt16(truncatingIfNeeded: value >> UInt128(16 * (7 - $0))) }
        var bestStart = -1
        var bestLength = 1
        var i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8, groups[j] == 0 { j += 1 }
                if j - i > bestLength {
                    bestStart = i
                    bestLength = j - i
                }
                i = j
            } else {
                i += 1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        if bestStart < 0 { return hex.joined(separator: ":") }
        let head = hex[..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }
}
