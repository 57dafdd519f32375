//! Payload schemas are checked at the edge: every problem at once, each naming its field.

use interlock_core::Category;
use interlock_core::payload::{self, FieldKind, FieldProblem, PayloadFacts};
use serde_json::{Value, json};

fn problems(category: Category, payload: &Value) -> Vec<FieldProblem> {
    match payload::check(category, payload) {
        Err(ps) => ps,
        Ok(facts) => panic!("expected problems for {payload}, got {facts:?}"),
    }
}

fn fields_named(ps: &[FieldProblem]) -> Vec<&str> {
    ps.iter().map(|p| p.field.as_str()).collect()
}

/// The one problem reported for `field`, failing if there is none or several.
fn problem_at<'a>(ps: &'a [FieldProblem], field: &str) -> &'a str {
    let found: Vec<&FieldProblem> = ps.iter().filter(|p| p.field == field).collect();
    assert_eq!(found.len(), 1, "expected one problem at {field} in {ps:#?}");
    &found[0].message
}

fn passes(category: Category, payload: &Value) -> PayloadFacts {
    payload::check(category, payload)
        .unwrap_or_else(|ps| panic!("{category} payload {payload} refused: {ps:#?}"))
}

fn valid(category: Category) -> Value {
    match category {
        Category::SendEmail => json!({
            "to": ["jane@acme.example", "sam@acme.example"],
            "cc": ["accounts@acme.example"],
            "subject": "About your last invoice",
            "text": "Hello Jane,\n\nSorry about the double charge.",
            "html": "<p>Hello Jane,</p>",
        }),
        Category::SendChat => json!({"conversation_id": "conv_1", "message": "Ships today!"}),
        Category::CrmUpdate => json!({
            "record_type": "deal",
            "record_id": "D-1042",
            "changes": {"stage": "Won", "tags": ["vip"], "seats": 12},
            "note": "Signed on the call.",
        }),
        Category::Refund => json!({
            "customer_id": "cus_4471",
            "amount": "120.00",
            "currency": "USD",
            "kind": "partial",
            "reason": "Charged twice.",
        }),
        Category::Schedule => json!({
            "title": "Onboarding call",
            "start": "2025-03-04T15:00:00Z",
            "duration": "1h30m",
            "attendees": ["jane@acme.example"],
        }),
        Category::InternalNote => json!({"card_id": "card_311", "text": "Prefers email."}),
        Category::Escalate => json!({
            "card_id": "card_311",
            "severity": "critical",
            "reason": "Legal threat.",
        }),
    }
}

fn with(category: Category, field: &str, value: Value) -> Value {
    let mut p = valid(category);
    p[field] = value;
    p
}

fn without(category: Category, field: &str) -> Value {
    let mut p = valid(category);
    p.as_object_mut().unwrap().remove(field);
    p
}

#[test]
fn a_valid_payload_of_every_category_passes() {
    for category in Category::ALL {
        passes(category, &valid(category));
    }
}

#[test]
fn the_documented_example_of_every_category_passes() {
    for category in Category::ALL {
        passes(category, &payload::example(category));
    }
}

#[test]
fn only_the_required_fields_are_enough() {
    for category in Category::ALL {
        let mut p = valid(category);
        for spec in payload::fields(category).iter().filter(|s| !s.required) {
            p.as_object_mut().unwrap().remove(spec.name);
        }
        passes(category, &p);
    }
}

#[test]
fn an_optional_field_set_to_null_is_the_same_as_leaving_it_out() {
    passes(
        Category::SendEmail,
        &with(Category::SendEmail, "html", Value::Null),
    );
    let facts = passes(
        Category::Escalate,
        &with(Category::Escalate, "card_id", Value::Null),
    );
    assert_eq!(facts.card_id, None);
}

#[test]
fn each_missing_required_field_is_named() {
    for category in Category::ALL {
        for spec in payload::fields(category).iter().filter(|s| s.required) {
            let ps = problems(category, &without(category, spec.name));
            assert_eq!(ps.len(), 1, "{category} without {}: {ps:#?}", spec.name);
            let field = format!("payload.{}", spec.name);
            let message = problem_at(&ps, &field);
            assert!(
                message.contains(&format!("`{}` is required", spec.name)),
                "{message}"
            );
        }
    }
}

#[test]
fn a_required_field_set_to_null_is_missing() {
    let ps = problems(
        Category::SendChat,
        &with(Category::SendChat, "message", Value::Null),
    );
    assert!(problem_at(&ps, "payload.message").contains("`message` is required"));
}

#[test]
fn a_payload_that_is_not_an_object_is_refused_as_a_whole() {
    for not_an_object in [json!([]), json!("hi"), json!(null), json!(3)] {
        let ps = problems(Category::SendChat, &not_an_object);
        assert_eq!(fields_named(&ps), ["payload"]);
        assert!(ps[0].message.contains("must be a JSON object"), "{ps:?}");
    }
}

#[test]
fn wrong_types_are_named_with_what_was_expected_and_found() {
    let ps = problems(
        Category::SendEmail,
        &json!({"to": 42, "cc": "a@b.example", "subject": ["x"], "text": true, "html": {}}),
    );
    assert_eq!(ps.len(), 5, "{ps:#?}");
    assert_eq!(
        problem_at(&ps, "payload.to"),
        "`to` must be an email address or a list of email addresses; found a number"
    );
    assert_eq!(
        problem_at(&ps, "payload.cc"),
        "`cc` must be a list of email addresses; found a string"
    );
    assert_eq!(
        problem_at(&ps, "payload.subject"),
        "`subject` must be a string; found an array"
    );
    assert!(problem_at(&ps, "payload.text").ends_with("found a boolean"));
    assert!(problem_at(&ps, "payload.html").ends_with("found an object"));

    let ps = problems(
        Category::Refund,
        &with(Category::Refund, "amount", json!(true)),
    );
    assert!(problem_at(&ps, "payload.amount").contains("found a boolean"));

    let ps = problems(
        Category::CrmUpdate,
        &with(Category::CrmUpdate, "changes", json!(["stage"])),
    );
    assert!(problem_at(&ps, "payload.changes").contains("found an array"));
}

#[test]
fn an_unknown_field_is_named_and_refused_rather_than_passed_along() {
    let ps = problems(
        Category::SendEmail,
        &with(Category::SendEmail, "bcc", json!(["x@y.example"])),
    );
    assert_eq!(fields_named(&ps), ["payload.bcc"]);
    let message = &ps[0].message;
    assert!(message.contains("unknown field \"bcc\""), "{message}");
    assert!(message.contains("to, cc, subject, text, html"), "{message}");
    assert!(!message.contains("did you mean"), "{message}");
}

#[test]
fn a_misspelt_field_gets_a_suggestion() {
    let mut p = without(Category::SendEmail, "subject");
    p["subjcet"] = json!("Hi");
    let ps = problems(Category::SendEmail, &p);
    assert_eq!(
        fields_named(&ps),
        ["payload.subject", "payload.subjcet"],
        "{ps:#?}"
    );
    assert!(
        ps[1].message.contains("did you mean `subject`?"),
        "{}",
        ps[1].message
    );
}

#[test]
fn an_unknown_field_with_an_odd_name_is_quoted_in_its_path() {
    let ps = problems(
        Category::SendChat,
        &with(Category::SendChat, "reply to", json!("x")),
    );
    assert_eq!(fields_named(&ps), ["payload[\"reply to\"]"]);
}

#[test]
fn a_flood_of_unknown_fields_is_summed_up_after_the_first_twenty() {
    let mut p = valid(Category::SendChat);
    for i in 0..100 {
        p[format!("extra_{i}")] = json!(i);
    }
    let ps = problems(Category::SendChat, &p);
    assert_eq!(ps.len(), 21);
    assert!(
        ps[20].message.starts_with("and 80 more unknown fields"),
        "{}",
        ps[20].message
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let ps = problems(
        Category::Refund,
        &json!({
            "customer_id": "",
            "amount": null,
            "currency": "usd",
            "kind": "total",
            "reason": "   ",
            "note": "x",
        }),
    );
    assert_eq!(
        fields_named(&ps),
        [
            "payload.customer_id",
            "payload.amount",
            "payload.currency",
            "payload.kind",
            "payload.reason",
            "payload.note",
        ],
        "{ps:#?}"
    );
    assert_eq!(
        problem_at(&ps, "payload.customer_id"),
        "`customer_id` must not be empty"
    );
    assert!(problem_at(&ps, "payload.currency").contains("found \"usd\""));
    assert_eq!(
        problem_at(&ps, "payload.kind"),
        "`kind` must be one of full, partial, credit, discount; found \"total\""
    );
    assert_eq!(
        problem_at(&ps, "payload.reason"),
        "`reason` must not be blank"
    );
}

#[test]
fn a_refund_amount_written_as_a_string_is_kept_exactly() {
    let facts = passes(Category::Refund, &valid(Category::Refund));
    assert_eq!(facts.amount, Some(("120.00".to_owned(), "USD".to_owned())));
    assert_eq!(facts.card_id, None);
}

#[test]
fn a_refund_amount_written_as_a_json_number_keeps_its_digits() {
    let p: Value = serde_json::from_str(
        r#"{"customer_id": "c1", "amount": 120.10, "currency": "EUR", "kind": "full", "reason": "r"}"#,
    )
    .unwrap();
    let facts = passes(Category::Refund, &p);
    assert_eq!(facts.amount, Some(("120.10".to_owned(), "EUR".to_owned())));

    // Digits a float would lose are kept too.
    let p: Value = serde_json::from_str(
        r#"{"customer_id": "c1", "amount": 9007199254740993.01, "currency": "USD", "kind": "full", "reason": "r"}"#,
    )
    .unwrap();
    let (amount, _) = passes(Category::Refund, &p).amount.unwrap();
    assert_eq!(amount, "9007199254740993.01");
}

#[test]
fn a_refund_amount_is_passed_on_unjudged_for_the_server_to_read_as_money() {
    // Negative, too precise or not a number at all: the server answers these with
    // their own amount codes, so the payload check lets the text through.
    for written in ["-5.00", "10.005", "abc", ""] {
        let facts = passes(
            Category::Refund,
            &with(Category::Refund, "amount", json!(written)),
        );
        assert_eq!(facts.amount.unwrap().0, written);
    }
}

#[test]
fn a_missing_amount_or_currency_is_named() {
    let mut p = without(Category::Refund, "amount");
    p.as_object_mut().unwrap().remove("currency");
    let ps = problems(Category::Refund, &p);
    assert_eq!(fields_named(&ps), ["payload.amount", "payload.currency"]);
}

#[test]
fn notes_and_escalations_give_their_card() {
    let facts = passes(Category::InternalNote, &valid(Category::InternalNote));
    assert_eq!(facts.card_id.as_deref(), Some("card_311"));
    assert_eq!(facts.amount, None);
    let facts = passes(Category::Escalate, &valid(Category::Escalate));
    assert_eq!(facts.card_id.as_deref(), Some("card_311"));
    let facts = passes(Category::Escalate, &without(Category::Escalate, "card_id"));
    assert_eq!(facts.card_id, None);
}

#[test]
fn a_bad_email_address_is_named_with_its_index() {
    let ps = problems(
        Category::SendEmail,
        &with(
            Category::SendEmail,
            "to",
            json!(["jane@acme.example", "bob at acme.example", 7, "sam@acme"]),
        ),
    );
    assert_eq!(
        fields_named(&ps),
        ["payload.to[1]", "payload.to[2]", "payload.to[3]"]
    );
    assert_eq!(
        ps[0].message,
        "`to[1]` is not an email address: \"bob at acme.example\" contains a space or a \
         control character"
    );
    assert_eq!(
        ps[1].message,
        "`to[2]` must be an email address string; found a number"
    );
    assert!(ps[2].message.contains("has no dot in its domain"));

    let ps = problems(
        Category::Schedule,
        &with(
            Category::Schedule,
            "attendees",
            json!(["ok@x.example", "nope"]),
        ),
    );
    assert_eq!(fields_named(&ps), ["payload.attendees[1]"]);
    assert!(ps[0].message.contains("has no `@`"), "{}", ps[0].message);
}

#[test]
fn a_single_recipient_may_be_written_as_a_plain_string() {
    passes(
        Category::SendEmail,
        &with(Category::SendEmail, "to", json!("jane@acme.example")),
    );
    let ps = problems(
        Category::SendEmail,
        &with(Category::SendEmail, "to", json!("Jane <jane@acme.example>")),
    );
    assert_eq!(fields_named(&ps), ["payload.to"]);
    assert!(ps[0].message.contains("without a display name"));
}

#[test]
fn an_email_needs_at_least_one_recipient() {
    let ps = problems(
        Category::SendEmail,
        &with(Category::SendEmail, "to", json!([])),
    );
    assert_eq!(
        problem_at(&ps, "payload.to"),
        "`to` needs at least one email address"
    );
}

#[test]
fn list_limits_are_enforced() {
    let addresses = |n: usize| -> Value {
        (0..n)
            .map(|i| Value::from(format!("p{i}@acme.example")))
            .collect()
    };
    passes(
        Category::SendEmail,
        &with(Category::SendEmail, "to", addresses(50)),
    );
    let ps = problems(
        Category::SendEmail,
        &with(Category::SendEmail, "to", addresses(51)),
    );
    assert_eq!(
        problem_at(&ps, "payload.to"),
        "`to` has 51 addresses; at most 50 are allowed"
    );
    let ps = problems(
        Category::SendEmail,
        &with(Category::SendEmail, "cc", addresses(51)),
    );
    assert_eq!(fields_named(&ps), ["payload.cc"]);
    passes(
        Category::Schedule,
        &with(Category::Schedule, "attendees", addresses(100)),
    );
    let ps = problems(
        Category::Schedule,
        &with(Category::Schedule, "attendees", addresses(101)),
    );
    assert_eq!(fields_named(&ps), ["payload.attendees"]);
}

#[test]
fn text_limits_are_enforced_in_characters() {
    let cases: [(Category, &str, usize); 13] = [
        (Category::SendEmail, "subject", 998),
        (Category::SendEmail, "text", 100_000),
        (Category::SendEmail, "html", 500_000),
        (Category::SendChat, "conversation_id", 200),
        (Category::SendChat, "message", 10_000),
        (Category::CrmUpdate, "record_type", 100),
        (Category::CrmUpdate, "record_id", 200),
        (Category::CrmUpdate, "note", 10_000),
        (Category::Refund, "customer_id", 200),
        (Category::Refund, "reason", 2000),
        (Category::Schedule, "title", 500),
        (Category::InternalNote, "text", 20_000),
        (Category::Escalate, "reason", 2000),
    ];
    for (category, field, max) in cases {
        // Multi-byte characters count once each.
        passes(category, &with(category, field, json!("é".repeat(max))));
        let ps = problems(category, &with(category, field, json!("é".repeat(max + 1))));
        assert_eq!(
            problem_at(&ps, &format!("payload.{field}")),
            format!(
                "`{field}` is {} characters long; at most {max} are allowed",
                max + 1
            )
        );
    }
}

#[test]
fn a_subject_must_be_one_line() {
    for broken in ["Hello\r\nBcc: everyone@x.example", "Hello\nthere"] {
        let ps = problems(
            Category::SendEmail,
            &with(Category::SendEmail, "subject", json!(broken)),
        );
        assert_eq!(
            problem_at(&ps, "payload.subject"),
            "`subject` must be one line; it contains a line break"
        );
    }
    // Bodies may of course span lines, but never hold other control characters.
    passes(
        Category::SendEmail,
        &with(Category::SendEmail, "text", json!("a\r\nb\n\tc")),
    );
    let ps = problems(
        Category::SendEmail,
        &with(Category::SendEmail, "text", json!("a\u{0}b")),
    );
    assert_eq!(
        problem_at(&ps, "payload.text"),
        "`text` contains a control character (U+0000)"
    );
}

#[test]
fn crm_changes_must_be_a_bounded_non_empty_object() {
    let ps = problems(
        Category::CrmUpdate,
        &with(Category::CrmUpdate, "changes", json!({})),
    );
    assert_eq!(
        problem_at(&ps, "payload.changes"),
        "`changes` must change at least one field"
    );

    let many: serde_json::Map<String, Value> =
        (0..101).map(|i| (format!("f{i}"), json!(i))).collect();
    let ps = problems(
        Category::CrmUpdate,
        &with(Category::CrmUpdate, "changes", Value::Object(many)),
    );
    assert!(problem_at(&ps, "payload.changes").contains("101 fields; at most 100"));

    let ps = problems(
        Category::CrmUpdate,
        &with(
            Category::CrmUpdate,
            "changes",
            json!({"stage": "Won", "bio": "x".repeat(10_001), "": 1}),
        ),
    );
    // Sorted: the order of a JSON object's fields depends on serde_json's features,
    // which other crates in a workspace build may switch on.
    let mut fields = fields_named(&ps);
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["payload.changes.bio", "payload.changes[\"\"]"],
        "{ps:#?}"
    );
    assert!(ps[1].message.contains("at most 10000"), "{}", ps[1].message);
}

#[test]
fn schedule_times_and_durations_are_checked() {
    for start in ["2025-03-04T15:00:00+01:00", "2025-03-04T15:00:00.250Z"] {
        passes(
            Category::Schedule,
            &with(Category::Schedule, "start", json!(start)),
        );
    }
    for start in ["tomorrow", "2025-03-04 15:00", "2025-03-04", "1741100400"] {
        let ps = problems(
            Category::Schedule,
            &with(Category::Schedule, "start", json!(start)),
        );
        assert!(
            problem_at(&ps, "payload.start").contains("RFC 3339"),
            "{start}"
        );
    }
    for duration in ["30m", "1h", "1h30m", "24h"] {
        passes(
            Category::Schedule,
            &with(Category::Schedule, "duration", json!(duration)),
        );
    }
    for (duration, why) in [
        ("0m", "must be longer than zero"),
        ("25h", "at most 24h"),
        ("half an hour", "must be a duration like"),
        ("30", "must be a duration like"),
    ] {
        let ps = problems(
            Category::Schedule,
            &with(Category::Schedule, "duration", json!(duration)),
        );
        let message = problem_at(&ps, "payload.duration");
        assert!(message.contains(why), "{duration}: {message}");
    }
}

#[test]
fn words_from_a_fixed_set_are_matched_exactly() {
    for kind in ["full", "partial", "credit", "discount"] {
        passes(
            Category::Refund,
            &with(Category::Refund, "kind", json!(kind)),
        );
    }
    for severity in ["low", "medium", "high", "critical"] {
        passes(
            Category::Escalate,
            &with(Category::Escalate, "severity", json!(severity)),
        );
    }
    let ps = problems(
        Category::Escalate,
        &with(Category::Escalate, "severity", json!("High")),
    );
    assert_eq!(fields_named(&ps), ["payload.severity"]);
}

#[test]
fn problems_serialize_as_field_and_message() {
    let ps = problems(Category::SendChat, &json!({"conversation_id": "c"}));
    assert_eq!(
        serde_json::to_value(&ps).unwrap(),
        json!([{"field": "payload.message", "message": "`message` is required: The message to send."}])
    );
}

#[test]
fn the_json_schema_follows_the_same_table_as_the_checker() {
    for category in Category::ALL {
        let schema = payload::json_schema(category);
        let specs = payload::fields(category);
        assert_eq!(schema["additionalProperties"], json!(false));
        let properties = schema["properties"].as_object().unwrap();
        assert_eq!(properties.len(), specs.len(), "{category}");
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for spec in specs {
            assert!(
                properties.contains_key(spec.name),
                "{category}.{}",
                spec.name
            );
            assert_eq!(required.contains(&spec.name), spec.required);
            assert!(!spec.description.is_empty());
            assert!(!spec.kind.summary().is_empty());
        }
    }
    let subject = &payload::json_schema(Category::SendEmail)["properties"]["subject"];
    assert_eq!(subject["maxLength"], json!(998));
    assert!(matches!(
        payload::fields(Category::SendEmail)[2].kind,
        FieldKind::Text {
            max: 998,
            one_line: true,
            ..
        }
    ));
}
