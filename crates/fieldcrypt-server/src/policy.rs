//! Who may do what: rules over roles, operations, `table.column` patterns and purposes (deny
//! wins, the default is deny), masking profiles, and which budgets apply.

use crate::config::{Budget, Effect, MaskKind, MaskRule, Operation, Rule};

/// `*` matches any run of characters (including `.`); everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            pi += 1;
            mark = ti;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

fn roles_match(rule_roles: &[String], roles: &[String]) -> bool {
    rule_roles
        .iter()
        .any(|r| r == "*" || roles.iter().any(|have| have == r))
}

fn columns_match(patterns: &[String], column: &str) -> bool {
    patterns.iter().any(|p| glob(p, column))
}

/// Why a request item was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// A deny rule matched.
    DeniedByRule,
    /// No allow rule matched.
    NotGranted,
}

/// The rules in force.
#[derive(Debug, Clone)]
pub struct Policy {
    rules: Vec<Rule>,
    masks: Vec<MaskRule>,
    budgets: Vec<Budget>,
}

impl Policy {
    /// The policy of a configuration.
    pub fn new(rules: Vec<Rule>, masks: Vec<MaskRule>, budgets: Vec<Budget>) -> Self {
        Self {
            rules,
            masks,
            budgets,
        }
    }

    fn rule_matches(
        rule: &Rule,
        roles: &[String],
        op: Operation,
        column: &str,
        purpose: Option<&str>,
    ) -> bool {
        // Whoever may open in full may also open masked.
        let op_matches = rule
            .operations
            .iter()
            .any(|o| *o == op || (op == Operation::OpenMasked && *o == Operation::Open));
        op_matches
            && roles_match(&rule.roles, roles)
            && columns_match(&rule.columns, column)
            && match (&rule.purposes, purpose) {
                (None, _) => true,
                (Some(list), Some(p)) => list.iter().any(|l| l == p),
                (Some(_), None) => false,
            }
    }

    /// Whether `roles` may do `op` on `column` (`table.column`) for `purpose`.
    pub fn decide(
        &self,
        roles: &[String],
        op: Operation,
        column: &str,
        purpose: Option<&str>,
    ) -> Result<(), Denial> {
        let mut allowed = false;
        for rule in &self.rules {
            if Self::rule_matches(rule, roles, op, column, purpose) {
                match rule.effect {
                    Effect::Deny => return Err(Denial::DeniedByRule),
                    Effect::Allow => allowed = true,
                }
            }
        }
        if allowed {
            Ok(())
        } else {
            Err(Denial::NotGranted)
        }
    }

    /// The masking profile for `roles` on `column`: the first matching `[[mask]]`, else
    /// redaction.
    pub fn mask_for(&self, roles: &[String], column: &str) -> MaskKind {
        self.masks
            .iter()
            .find(|m| roles_match(&m.roles, roles) && columns_match(&m.columns, column))
            .map_or(MaskKind::Redact, |m| m.mask)
    }

    /// The budgets that apply to `roles` on `column`, with their index (their counter's name).
    pub fn budgets_for<'a>(
        &'a self,
        roles: &'a [String],
        column: &'a str,
    ) -> impl Iterator<Item = (usize, &'a Budget)> + 'a {
        self.budgets
            .iter()
            .enumerate()
            .filter(move |(_, b)| roles_match(&b.roles, roles) && columns_match(&b.columns, column))
    }

    /// The rules, for the admin page.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
    /// The budgets, for the admin page.
    pub fn budgets(&self) -> &[Budget] {
        &self.budgets
    }
    /// The masks, for the admin page.
    pub fn masks(&self) -> &[MaskRule] {
        &self.masks
    }
}

/// Applies a masking profile to the text of an opened value.
pub fn mask(kind: MaskKind, text: &str) -> String {
    match kind {
        MaskKind::Redact => "[redacted]".to_owned(),
        MaskKind::LastFour => {
            let chars: Vec<char> = text.chars().collect();
            if chars.len() <= 4 {
                "*".repeat(chars.len())
            } else {
                let keep: String = chars[chars.len() - 4..].iter().collect();
                format!("{}{keep}", "*".repeat(chars.len() - 4))
            }
        }
        MaskKind::EmailDomain => match text.rsplit_once('@') {
            Some((_, domain)) if !domain.is_empty() => format!("****@{domain}"),
            _ => "[redacted]".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        effect: Effect,
        roles: &[&str],
        ops: &[Operation],
        cols: &[&str],
        purposes: Option<&[&str]>,
    ) -> Rule {
        Rule {
            effect,
            roles: roles.iter().map(|s| s.to_string()).collect(),
            operations: ops.to_vec(),
            columns: cols.iter().map(|s| s.to_string()).collect(),
            purposes: purposes.map(|p| p.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn glob_matches_like_a_shell_star() {
        assert!(glob("customers.*", "customers.email"));
        assert!(glob("*.email", "customers.email"));
        assert!(glob("*", "a.b"));
        assert!(glob("c*s.n*d", "customers.national_id"));
        assert!(!glob("customers.*", "orders.total"));
        assert!(!glob("customers.email", "customers.email2"));
        assert!(!glob("customers.email", "customers.emai"));
    }

    #[test]
    fn deny_wins_default_denies_purposes_bind_and_open_implies_masked() {
        let policy = Policy::new(
            vec![
                rule(
                    Effect::Allow,
                    &["support"],
                    &[Operation::OpenMasked],
                    &["customers.*"],
                    Some(&["ticket"]),
                ),
                rule(
                    Effect::Allow,
                    &["billing"],
                    &[Operation::Open],
                    &["customers.*"],
                    None,
                ),
                rule(
                    Effect::Deny,
                    &["*"],
                    &[Operation::Open, Operation::OpenMasked],
                    &["customers.password"],
                    None,
                ),
            ],
            vec![],
            vec![],
        );
        let support = vec!["support".to_owned()];
        let billing = vec!["billing".to_owned()];
        assert_eq!(
            policy.decide(
                &support,
                Operation::OpenMasked,
                "customers.card",
                Some("ticket")
            ),
            Ok(())
        );
        assert_eq!(
            policy.decide(
                &support,
                Operation::OpenMasked,
                "customers.card",
                Some("export")
            ),
            Err(Denial::NotGranted)
        );
        assert_eq!(
            policy.decide(&support, Operation::OpenMasked, "customers.card", None),
            Err(Denial::NotGranted)
        );
        assert_eq!(
            policy.decide(&support, Operation::Open, "customers.card", Some("ticket")),
            Err(Denial::NotGranted)
        );
        assert_eq!(
            policy.decide(&billing, Operation::OpenMasked, "customers.card", None),
            Ok(())
        );
        assert_eq!(
            policy.decide(&billing, Operation::Open, "customers.password", None),
            Err(Denial::DeniedByRule)
        );
        assert_eq!(
            policy.decide(&billing, Operation::Seal, "customers.card", None),
            Err(Denial::NotGranted)
        );
        assert_eq!(
            policy.decide(&[], Operation::Open, "customers.card", None),
            Err(Denial::NotGranted)
        );
    }

    #[test]
    fn masks() {
        assert_eq!(
            mask(MaskKind::LastFour, "4111111111111111"),
            "************1111"
        );
        assert_eq!(mask(MaskKind::LastFour, "123"), "***");
        assert_eq!(mask(MaskKind::LastFour, "ééééé1234"), "*****1234");
        assert_eq!(
            mask(MaskKind::EmailDomain, "bob@example.org"),
            "****@example.org"
        );
        assert_eq!(mask(MaskKind::EmailDomain, "bob"), "[redacted]");
        assert_eq!(mask(MaskKind::Redact, "anything"), "[redacted]");
    }
}
