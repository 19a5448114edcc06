// After the create (issue 11): DNSPod's get-domain-back (`Domain.Acquiresend`) is not a backorder. Nothing drops,
// nothing is won or lost, so there is nothing to ask DNSPod about; and a verification mail that has been sent
// cannot be taken back. The defaults of `Provider` (nothing offered) then answer, with these notes.

extension DNSPodProvider {
    public var followUp: FollowUpSupport {
        FollowUpSupport(
            refreshBatch: nil,
            refreshNote: "DNSPod's get-domain-back is not a backorder: refresh reports its sends as the ledger has them "
                + "(the verification code goes to the domain's WHOIS email; DNSPod has no call that says more)",
            cancelBatch: nil,
            cancelNote: "a DNSPod get-domain-back mail cannot be withdrawn: once sent, the code is in the WHOIS mailbox "
                + "(ignore it, or let it expire)")
    }
}
