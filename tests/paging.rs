//! The paginators (`Database::query_pages`, `scan_pages`, `list_backups_pages`): paging with
//! any `Limit` through a table, an index or the backups yields exactly what one unpaged call
//! yields, in the same order, also when a filter drops every item of some pages.

mod behaviour;
mod support;

use behaviour::*;
use proptest::prelude::*;
use tidestore::fs::sim::SimFs;
use tidestore::ScalarAttributeType::{N, S};
use tidestore::*;

const T: &str = "Paged";

/// Makes the table of [`table`] in `db`.
fn create(db: &Database) {
    db.create_table(
        CreateTableInput::new(T)
            .hash_key("pk", S)
            .range_key("sk", N)
            .global_index("ByG", ("g", S), Some(("v", N)), Projection::all())
            .pay_per_request(),
    )
    .expect("create");
}

/// A table keyed `pk` (S) + `sk` (N) with a global index on `g` (S) + `v` (N), holding one
/// item per `(pk, sk, v)`; `g` is set on items with an even `v` (the index is sparse), and
/// `f` (filtered on, as a filter cannot name a key) is `v` again.
fn table(items: &[(u8, u8, u8)]) -> Database {
    let db = db();
    create(&db);
    for &(pk, sk, v) in items {
        let mut it = Item::new()
            .with("pk", format!("p{pk}"))
            .with("sk", sk)
            .with("v", v)
            .with("f", v);
        if v % 2 == 0 {
            it = it.with("g", "even");
        }
        put(&db, T, it);
    }
    db
}

/// `f >= threshold`.
fn at_least(threshold: u8) -> Condition {
    Condition::ge("f", threshold)
}

/// The items of every page, checking on the way that each page holds at most `limit` read
/// items and that only the last page lacks a `LastEvaluatedKey`.
fn paged_items(pages: impl Iterator<Item = Result<QueryOutput>>, limit: u32) -> Vec<Item> {
    let pages: Vec<QueryOutput> = pages.collect::<Result<_>>().expect("every page");
    let last = pages.len() - 1;
    for (i, page) in pages.iter().enumerate() {
        assert!(
            page.scanned_count <= limit,
            "page {i} read {}",
            page.scanned_count
        );
        assert_eq!(
            page.last_evaluated_key.is_none(),
            i == last,
            "page {i} of {last}"
        );
    }
    pages.into_iter().flat_map(|page| page.items).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn paging_any_limit_yields_exactly_the_unpaged_items_in_order(
        items in proptest::collection::vec((0u8..3, 0u8..20, 0u8..10), 0..40),
        limit in 1u32..6,
        threshold in 0u8..12,
        forward in any::<bool>(),
    ) {
        let db = table(&items);
        let scans = [
            ScanInput::new(T),
            ScanInput::new(T).filter(at_least(threshold)),
            ScanInput::new(T).index_name("ByG").filter(at_least(threshold)),
        ];
        for scan in scans {
            let unpaged = db.scan(scan.clone()).expect("scan");
            prop_assert!(unpaged.last_evaluated_key.is_none());
            let paged = paged_items(db.scan_pages(scan.clone().limit(limit)), limit);
            prop_assert_eq!(&paged, &unpaged.items);
            let flat: Vec<Item> = db.scan_pages(scan.limit(limit)).items().collect::<Result<_>>().expect("items");
            prop_assert_eq!(flat, paged);
        }
        let queries = [
            QueryInput::new(T, KeyCondition::partition("pk", "p1")),
            QueryInput::new(T, KeyCondition::partition("pk", "p1")).filter(at_least(threshold)),
            QueryInput::new(T, KeyCondition::partition("g", "even")).index_name("ByG").filter(at_least(threshold)),
        ];
        for query in queries {
            let query = query.scan_index_forward(forward);
            let unpaged = db.query(query.clone()).expect("query");
            let paged = paged_items(db.query_pages(query.clone().limit(limit)), limit);
            prop_assert_eq!(&paged, &unpaged.items);
            let flat: Vec<Item> = db.query_pages(query.limit(limit)).items().collect::<Result<_>>().expect("items");
            prop_assert_eq!(flat, paged);
        }
    }
}

#[test]
fn paging_continues_through_pages_whose_items_the_filter_all_dropped() {
    let items: Vec<(u8, u8, u8)> = (0..20).map(|sk| (1, sk, sk / 2)).collect();
    let db = table(&items);
    // Only sk 16..20 pass: the first pages of 3 keep nothing, yet are not the last.
    let query = QueryInput::new(T, KeyCondition::partition("pk", "p1")).filter(at_least(8));
    let pages: Vec<QueryOutput> = db
        .query_pages(query.clone().limit(3))
        .collect::<Result<_>>()
        .expect("pages");
    assert_eq!(pages.len(), 7);
    assert!(pages[..5]
        .iter()
        .all(|p| p.count == 0 && p.last_evaluated_key.is_some()));
    let sks: Vec<Item> = db
        .query_pages(query.limit(3))
        .items()
        .collect::<Result<_>>()
        .expect("items");
    let expected: Vec<AttributeValue> = (16..20).map(AttributeValue::from).collect();
    assert_eq!(
        sks.iter().map(|i| i["sk"].clone()).collect::<Vec<_>>(),
        expected
    );
    let scanned: Vec<Item> = db
        .scan_pages(ScanInput::new(T).filter(at_least(8)).limit(3))
        .items()
        .collect::<Result<_>>()
        .expect("items");
    assert_eq!(scanned, sks);
}

#[test]
fn a_failing_page_ends_the_pages_with_its_error() {
    let db = table(&[]);
    let mut pages = db.query_pages(QueryInput::new(
        "Missing",
        KeyCondition::partition("pk", "p"),
    ));
    assert!(matches!(
        pages.next(),
        Some(Err(Error::ResourceNotFound(_)))
    ));
    assert!(pages.next().is_none());
    let mut items = db.scan_pages(ScanInput::new("Missing")).items();
    assert!(matches!(
        items.next(),
        Some(Err(Error::ResourceNotFound(_)))
    ));
    assert!(items.next().is_none());
}

#[test]
fn listing_backups_page_by_page_yields_every_backup_once_in_order() {
    // Backups need a directory: one on the simulated file system.
    let db = Database::open_with("/db", support::sim_options(&SimFs::new())).expect("open");
    create(&db);
    for i in 0..7 {
        db.create_backup(T, &format!("backup{i}"))
            .expect("create backup");
    }
    let all = db.list_backups(ListBackupsInput::default()).expect("list");
    assert_eq!(all.backup_summaries.len(), 7);
    for limit in 1..=8 {
        let input = ListBackupsInput::new().limit(limit);
        let pages: Vec<ListBackupsOutput> = db
            .list_backups_pages(input.clone())
            .collect::<Result<_>>()
            .expect("pages");
        assert_eq!(
            pages.len(),
            7usize.div_ceil(limit as usize).max(1),
            "limit {limit}"
        );
        let paged: Vec<BackupSummary> = db
            .list_backups_pages(input)
            .backups()
            .collect::<Result<_>>()
            .expect("backups");
        assert_eq!(paged, all.backup_summaries, "limit {limit}");
    }
}
