import OrderedCollections

extension Template {
    /// Checks the Rules section against the operation's parameter values, before any resource is touched.
    ///
    /// A rule whose `RuleCondition` is false is skipped; otherwise each `Assert` must hold. A failed assertion
    /// throws a `ValidationError` whose message is its `AssertDescription` (⚠ AWS's exact text is not documented;
    /// this is what reports of real failures show), or `Template error: Assertion failed for rule <Name>` without one
    /// (⚠ Cairn's wording). Rule functions: Fn::And, Fn::Contains, Fn::EachMemberEquals, Fn::EachMemberIn,
    /// Fn::Equals, Fn::If, Fn::Not, Fn::Or, Fn::RefAll (an empty list: Cairn hosts no AWS-specific parameter
    /// types' resources), Ref; Fn::ValueOf and Fn::ValueOfAll need EC2 and are unsupported.
    package func checkRules(parameters: ResolvedParameters, context: StackContext) throws(TemplateError) {
        let evaluator = Evaluator(
            template: self, parameters: parameters, context: context, conditions: [:], active: [],
            lookup: NoResourceLookup())
        for rule in rules.values {
            if let condition = rule.condition, !(try evaluator.bool(condition, "RuleCondition")) { continue }
            for assertion in rule.assertions where !(try evaluator.bool(assertion.assert, "Assert")) {
                throw TemplateError(assertion.description ?? "Template error: Assertion failed for rule \(rule.name)")
            }
        }
    }
}
