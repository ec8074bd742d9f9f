//! What a listing asks for: filters (combined with AND), a page, and the
//! columns to show. Adapters translate [`ContactFilter`]s into their own queries.

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Collector, Error, Result};
use crate::model::{
    AttributeDefinition, AttributeId, AttributeName, AttributeType, AttributeValue, Channel,
    Column, ConsentStatus, Contact, Country, Email, InvalidValue, ListId, PhoneNumber, owned_text,
};
use crate::search::{ContactWords, Target, WordSearch};

/// A generic text attribute that can be searched: by word starts (see
/// [`crate::search`]), or by `[contains]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextField {
    FullName,
    FirstName,
    LastName,
    Phone,
    Email,
}

impl TextField {
    /// Every searchable text field.
    pub const ALL: [TextField; 5] = [
        TextField::FullName,
        TextField::FirstName,
        TextField::LastName,
        TextField::Phone,
        TextField::Email,
    ];

    /// The field's name as a filter parameter and a column.
    pub fn name(self) -> &'static str {
        match self {
            TextField::FullName => "full_name",
            TextField::FirstName => "first_name",
            TextField::LastName => "last_name",
            TextField::Phone => "phone",
            TextField::Email => "email",
        }
    }
}

/// Text to search for with `[contains]`: trimmed, 1–255 characters, matched
/// case-insensitively anywhere in the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    /// Validates search text.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let text = raw.trim();
        if text.chars().any(char::is_control) {
            return Err(InvalidValue("must not contain control characters".into()));
        }
        match text.chars().count() {
            0 => Err(InvalidValue("must not be empty".into())),
            1..=255 => Ok(Self(text.to_owned())),
            _ => Err(InvalidValue("must be at most 255 characters".into())),
        }
    }
}

impl AsRef<str> for SearchText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// One condition on a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactFilter {
    /// Every word of the search starts a word of the field (`full_name`,
    /// `attr.<name>` of a text attribute, …).
    Words(WordSearch),
    /// The field contains the text, ignoring case (`full_name[contains]`).
    Contains(TextField, SearchText),
    /// The contact's country is exactly this one.
    Country(Country),
    /// The contact's consent on the channel is exactly this status.
    Consent(Channel, ConsentStatus),
    /// The contact's email is this address, ignoring case (`email[eq]`).
    EmailIs(Email),
    /// The contact's phone is this number (`phone[eq]`).
    PhoneIs(PhoneNumber),
    /// A custom attribute's value meets a condition (`attr.<name>[op]`).
    Attribute(AttributeId, AttributeCondition),
    /// The contact belongs to the list (`list`).
    InList(ListId),
}

impl ContactFilter {
    /// Whether `contact` meets this filter, with the meaning every store
    /// gives it (`words` are the contact's searchable words).
    pub fn holds(&self, contact: &Contact, words: &ContactWords) -> bool {
        let lower = |value: Option<String>, text: &SearchText| {
            value.is_some_and(|v| v.to_lowercase().contains(&text.as_ref().to_lowercase()))
        };
        match self {
            ContactFilter::Words(search) => search.matches(words),
            ContactFilter::Contains(TextField::Phone, text) => contact
                .reach
                .phone()
                .is_some_and(|p| p.as_ref().contains(text.as_ref())),
            ContactFilter::Contains(field, text) => lower(text_of(contact, *field), text),
            ContactFilter::Country(country) => contact.country.as_ref() == Some(country),
            ContactFilter::Consent(channel, status) => contact.consent.get(*channel) == *status,
            ContactFilter::EmailIs(email) => contact
                .reach
                .email()
                .is_some_and(|e| e.as_ref().eq_ignore_ascii_case(email.as_ref())),
            ContactFilter::PhoneIs(phone) => contact.reach.phone() == Some(phone),
            ContactFilter::InList(list) => contact.lists.contains(list),
            ContactFilter::Attribute(id, condition) => {
                let value = contact.attributes.get(id);
                match (condition, value) {
                    (AttributeCondition::Contains(text), Some(AttributeValue::Text(v))) => {
                        lower(Some(v.clone()), text)
                    }
                    (AttributeCondition::Equals(wanted), Some(v)) => v == wanted,
                    (AttributeCondition::Greater(bound), Some(v)) => {
                        v.partial_cmp(bound) == Some(std::cmp::Ordering::Greater)
                    }
                    (AttributeCondition::Less(bound), Some(v)) => {
                        v.partial_cmp(bound) == Some(std::cmp::Ordering::Less)
                    }
                    _ => false,
                }
            }
        }
    }
}

/// A generic text field's value.
fn text_of(contact: &Contact, field: TextField) -> Option<String> {
    match field {
        TextField::FullName => contact.full_name(),
        TextField::FirstName => owned_text(contact.first_name.as_ref()),
        TextField::LastName => owned_text(contact.last_name.as_ref()),
        TextField::Phone => owned_text(contact.reach.phone()),
        TextField::Email => owned_text(contact.reach.email()),
    }
}

/// A condition on a custom attribute's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeCondition {
    /// Text contains this, ignoring case (`[contains]`; without an operator a
    /// text attribute is searched by word starts, [`ContactFilter::Words`]).
    Contains(SearchText),
    Equals(AttributeValue),
    Greater(AttributeValue),
    Less(AttributeValue),
}

/// A column to show: generic, or a custom attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnChoice {
    Generic(Column),
    Custom(AttributeName),
}

impl ColumnChoice {
    /// The column called `name`, given the workspace's attributes.
    pub fn parse(name: &str, schema: &[AttributeDefinition]) -> Result<Self, InvalidValue> {
        if let Some(column) = Column::parse(name) {
            return Ok(Self::Generic(column));
        }
        schema
            .iter()
            .find(|d| d.name.as_ref() == name)
            .map(|d| Self::Custom(d.name.clone()))
            .ok_or_else(|| {
                InvalidValue(format!(
                    "unknown column {name:?}; columns are {} and the custom attributes",
                    Column::ALL.map(Column::name).join(", ")
                ))
            })
    }

    /// The column's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Generic(column) => column.name(),
            Self::Custom(name) => name.as_ref(),
        }
    }
}

/// Filters that all must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactQuery {
    pub filters: Vec<ContactFilter>,
}

/// An adapter's position in a listing; opaque to everyone else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub String);

impl Cursor {
    /// The cursor after `position` (a sort key), tagged with what it is
    /// a position in.
    pub fn at(tag: &str, position: &str) -> Self {
        Self(URL_SAFE_NO_PAD.encode(format!("{tag}:{position}")))
    }

    /// The position a cursor made by [`Cursor::at`] with `tag` stands for;
    /// `None` without a cursor, an error naming `cursor` for any other.
    pub fn position(cursor: Option<&Cursor>, tag: &str) -> Result<Option<String>> {
        let Some(Cursor(raw)) = cursor else {
            return Ok(None);
        };
        URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| Some(text.strip_prefix(tag)?.strip_prefix(':')?.to_owned()))
            .filter(|position| !position.is_empty())
            .map(Some)
            .ok_or_else(|| Error::invalid("cursor", "is not a cursor this listing returned"))
    }
}

/// Which page of a listing to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// 1 to [`PageRequest::MAX_LIMIT`] items.
    pub limit: usize,
    /// Continue after this position; `None` starts at the newest.
    pub cursor: Option<Cursor>,
}

impl PageRequest {
    /// Items on a page unless asked otherwise.
    pub const DEFAULT_LIMIT: usize = 50;
    /// The most items one page may hold.
    pub const MAX_LIMIT: usize = 500;

    /// The first page of `limit` items.
    pub fn first(limit: usize) -> Self {
        Self {
            limit,
            cursor: None,
        }
    }

    /// Reads `limit` and `cursor`, refusing any other parameter.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<Self> {
        let mut errors = Collector::default();
        let mut page = Self::first(Self::DEFAULT_LIMIT);
        for (key, value) in pairs {
            if !page.read(key, value, &mut errors) {
                errors.push(
                    key.as_str(),
                    format!("unknown parameter {key:?}; use limit and cursor"),
                );
            }
        }
        errors.finish()?;
        Ok(page)
    }

    /// Takes `limit` or `cursor`; `false` for any other parameter.
    fn read(&mut self, key: &str, value: &str, errors: &mut Collector) -> bool {
        match key {
            "limit" => {
                if let Some(limit) = errors.check(key, parse_limit(value)) {
                    self.limit = limit;
                }
            }
            "cursor" => self.cursor = Some(Cursor(value.to_owned())),
            _ => return false,
        }
        true
    }
}

/// One page of a listing. A page may hold fewer than `limit` items (even none)
/// and still have a `next_cursor`: the adapter bounds the work one page costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Cursor>,
}

/// Every item of a listing, read `read` a page of the most items at a time.
pub async fn every_item<T, F, Fut>(mut read: F) -> Result<Vec<T>>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>>>,
{
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    let mut items = Vec::new();
    loop {
        let found = read(page.clone()).await?;
        items.extend(found.items);
        match found.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(items),
        }
    }
}

impl<T> Page<T> {
    /// The page of `items` read one past `limit`: trimmed to it, with the
    /// cursor (`key` of its last item) when there is more.
    pub fn one_past(mut items: Vec<T>, limit: usize, key: impl Fn(&T) -> String) -> Self {
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|item| Cursor(key(item)))
        } else {
            None
        };
        Self { items, next_cursor }
    }
}

/// A listing request as read from query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    pub query: ContactQuery,
    pub page: PageRequest,
    /// Only these columns (and always `messaging_id`); `None` for all.
    pub columns: Option<Vec<ColumnChoice>>,
}

impl ListRequest {
    /// Reads query parameters, reporting every unknown, repeated or bad one;
    /// `schema` gives the custom attributes that filters and columns may name.
    pub fn from_pairs(pairs: &[(String, String)], schema: &[AttributeDefinition]) -> Result<Self> {
        let mut errors = Collector::default();
        let mut seen = HashSet::new();
        let mut request = ListRequest {
            query: ContactQuery::default(),
            page: PageRequest::first(PageRequest::DEFAULT_LIMIT),
            columns: None,
        };
        for (key, value) in pairs {
            if !seen.insert(key.as_str()) {
                errors.push(key.as_str(), "is given more than once");
                continue;
            }
            if let Some(filter) = errors
                .check(key, parse_filter(key, value, schema))
                .flatten()
            {
                request.query.filters.push(filter);
                continue;
            }
            if request.page.read(key, value, &mut errors) {
                continue;
            }
            match key.as_str() {
                "columns" => request.columns = errors.check(key, parse_columns(value, schema)),
                _ if is_filter(key) => {}
                _ => errors.push(
                    key.as_str(),
                    format!(
                        "unknown parameter {key:?}; the filters are {} (word starts; \
                         [contains] for text anywhere), email[eq], phone[eq], country, \
                         sms_consent, whatsapp_consent, email_consent, list and attr.<name>, \
                         besides limit, cursor and columns",
                        TextField::ALL.map(TextField::name).join(", "),
                    ),
                ),
            }
        }
        errors.finish()?;
        Ok(request)
    }
}

fn is_filter(key: &str) -> bool {
    text_key(key).is_some()
        || key == "country"
        || key == "list"
        || consent_channel(key).is_some()
        || EXACT.contains(&key)
        || attribute_key(key).is_some()
}

/// `attr.<name>` or `attr.<name>[op]` → name and operator.
fn attribute_key(key: &str) -> Option<(&str, Option<&str>)> {
    let rest = key.strip_prefix("attr.")?;
    match rest.split_once('[') {
        Some((name, op)) => Some((name, Some(op.strip_suffix(']')?))),
        None => Some((rest, None)),
    }
}

fn parse_attribute_filter(
    definition: &AttributeDefinition,
    op: Option<&str>,
    value: &str,
) -> Result<ContactFilter, InvalidValue> {
    let kind = definition.kind;
    let typed = || AttributeValue::from_text(kind, value);
    let condition = match (op, kind) {
        (None, AttributeType::Text) => {
            let target = Target::Attribute(definition.id.clone());
            return Ok(ContactFilter::Words(WordSearch::parse(target, value)?));
        }
        (Some("contains"), AttributeType::Text) => {
            AttributeCondition::Contains(SearchText::parse(value)?)
        }
        (None | Some("eq"), _) => AttributeCondition::Equals(typed()?),
        (Some("gt"), k) if k.is_ordered() => AttributeCondition::Greater(typed()?),
        (Some("lt"), k) if k.is_ordered() => AttributeCondition::Less(typed()?),
        (Some(op), k) => {
            return Err(InvalidValue(format!(
                "[{op}] does not apply to a {} attribute; use {}",
                k.as_str(),
                match k {
                    AttributeType::Text => "[eq] or [contains]",
                    k if k.is_ordered() => "[eq], [gt] or [lt]",
                    _ => "[eq]",
                }
            )));
        }
    };
    Ok(ContactFilter::Attribute(definition.id.clone(), condition))
}

/// The exact-match filters.
const EXACT: [&str; 2] = ["email[eq]", "phone[eq]"];

/// `full_name` or `full_name[contains]` → the field, and whether it is the
/// substring search.
fn text_key(key: &str) -> Option<(TextField, bool)> {
    let (name, contains) = match key.strip_suffix("[contains]") {
        Some(name) => (name, true),
        None => (key, false),
    };
    let field = TextField::ALL.into_iter().find(|f| f.name() == name)?;
    Some((field, contains))
}

fn consent_channel(key: &str) -> Option<Channel> {
    Channel::parse(key.strip_suffix("_consent")?).ok()
}

/// The filter a parameter names, `None` when it names no filter.
fn parse_filter(
    key: &str,
    value: &str,
    schema: &[AttributeDefinition],
) -> Result<Option<ContactFilter>, InvalidValue> {
    if let Some((name, op)) = attribute_key(key) {
        return match schema.iter().find(|d| d.name.as_ref() == name) {
            Some(definition) => parse_attribute_filter(definition, op, value).map(Some),
            None => Err(InvalidValue(format!(
                "{name:?} is not a custom attribute of this workspace"
            ))),
        };
    }
    match text_key(key) {
        Some((field, true)) => {
            return Ok(Some(ContactFilter::Contains(
                field,
                SearchText::parse(value)?,
            )));
        }
        Some((field, false)) => {
            let search = WordSearch::parse(Target::Field(field), value)?;
            return Ok(Some(ContactFilter::Words(search)));
        }
        None => {}
    }
    match key {
        "country" => return Ok(Some(ContactFilter::Country(Country::parse(value)?))),
        "email[eq]" => return Ok(Some(ContactFilter::EmailIs(Email::parse(value)?))),
        "phone[eq]" => return Ok(Some(ContactFilter::PhoneIs(PhoneNumber::parse(value)?))),
        "list" => return Ok(Some(ContactFilter::InList(ListId::parse(value)?))),
        _ => {}
    }
    match consent_channel(key) {
        Some(channel) => Ok(Some(ContactFilter::Consent(
            channel,
            ConsentStatus::parse(value)?,
        ))),
        None => Ok(None),
    }
}

fn parse_limit(value: &str) -> Result<usize, InvalidValue> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=PageRequest::MAX_LIMIT).contains(n))
        .ok_or_else(|| {
            InvalidValue(format!(
                "must be a whole number from 1 to {}",
                PageRequest::MAX_LIMIT
            ))
        })
}

/// Comma-separated column names.
pub fn parse_columns(
    value: &str,
    schema: &[AttributeDefinition],
) -> Result<Vec<ColumnChoice>, InvalidValue> {
    let columns: Vec<ColumnChoice> = value
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| ColumnChoice::parse(name, schema))
        .collect::<Result<_, _>>()?;
    if columns.is_empty() {
        return Err(InvalidValue("choose at least one column".into()));
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
        raw.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn fields(err: crate::Error) -> Vec<String> {
        match err {
            crate::Error::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn reads_filters_page_and_columns() {
        let request = ListRequest::from_pairs(
            &pairs(&[
                ("email", " Example "),
                ("country", "de"),
                ("sms_consent", "unsubscribed"),
                ("limit", "10"),
                ("cursor", "abc"),
                ("columns", "full_name,sms_consent"),
            ]),
            &[],
        )
        .unwrap();
        assert_eq!(request.query.filters.len(), 3);
        assert_eq!(
            request.query.filters[0],
            ContactFilter::Words(
                WordSearch::parse(Target::Field(TextField::Email), "example").unwrap()
            )
        );
        assert_eq!(request.page.limit, 10);
        assert_eq!(request.page.cursor, Some(Cursor("abc".into())));
        assert_eq!(
            request.columns,
            Some(vec![
                ColumnChoice::Generic(Column::FullName),
                ColumnChoice::Generic(Column::SmsConsent)
            ])
        );
    }

    #[test]
    fn names_every_bad_parameter() {
        let err = ListRequest::from_pairs(
            &pairs(&[
                ("nickname", "x"),
                ("limit", "501"),
                ("columns", "full_name,shoe_size"),
                ("sms_consent", "maybe"),
                ("country", "Atlantis"),
                ("email", "  "),
                ("phone", "1"),
                ("phone", "2"),
                ("email[eq]", "not-an-email"),
                ("email[gt]", "a@example.com"),
                ("list", "not-a-list"),
            ]),
            &[],
        )
        .unwrap_err();
        assert_eq!(
            fields(err),
            [
                "nickname",
                "limit",
                "columns",
                "sms_consent",
                "country",
                "email",
                "phone",
                "email[eq]",
                "email[gt]",
                "list"
            ]
        );
    }

    #[test]
    fn reads_custom_attribute_filters_by_type() {
        use crate::model::{AttributeId, AttributeLabel, AttributeName};
        let def = |name: &str, kind| AttributeDefinition {
            id: AttributeId::generate(),
            name: AttributeName::parse(name).unwrap(),
            label: AttributeLabel::parse(name).unwrap(),
            kind,
        };
        let schema = [
            def("tier", AttributeType::Text),
            def("score", AttributeType::Number),
            def("vip", AttributeType::Boolean),
            def("since", AttributeType::Date),
        ];
        let request = ListRequest::from_pairs(
            &pairs(&[
                ("attr.tier", "Gold"),
                ("attr.score[gt]", "10"),
                ("attr.tier[contains]", "ol"),
                ("attr.vip", "true"),
                ("attr.since[lt]", "2026-01-01"),
                ("columns", "tier,full_name"),
            ]),
            &schema,
        )
        .unwrap();
        assert_eq!(request.query.filters.len(), 5);
        assert!(matches!(&request.query.filters[0], ContactFilter::Words(_)));
        assert!(matches!(
            &request.query.filters[2],
            ContactFilter::Attribute(_, AttributeCondition::Contains(_))
        ));
        assert!(matches!(
            &request.query.filters[1],
            ContactFilter::Attribute(_, AttributeCondition::Greater(AttributeValue::Number(n))) if *n == 10.0
        ));
        let err = ListRequest::from_pairs(
            &pairs(&[
                ("attr.score[gt]", "ten"),
                ("attr.vip[gt]", "true"),
                ("attr.tier[lt]", "a"),
                ("attr.shoe", "42"),
                ("columns", "shoe"),
            ]),
            &schema,
        )
        .unwrap_err();
        assert_eq!(
            fields(err),
            [
                "attr.score[gt]",
                "attr.vip[gt]",
                "attr.tier[lt]",
                "attr.shoe",
                "columns"
            ]
        );
    }

    #[test]
    fn defaults_to_the_first_page_of_fifty() {
        let request = ListRequest::from_pairs(&[], &[]).unwrap();
        assert_eq!(request.page, PageRequest::first(50));
        assert!(request.query.filters.is_empty() && request.columns.is_none());
    }
}
