//! Rows as one array per column, so that a multi-row insert is one statement of constant
//! text (`INSERT … SELECT * FROM unnest($1::text[], $2::bigint[], …)`), prepared once
//! per connection whatever the number of rows. A multi-row `VALUES` list is a new
//! statement, parsed and planned again, for every batch size.

use interlock_store_sql::rows::Binds;
use sqlx::Postgres;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;

#[derive(Debug)]
enum Column {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
}

/// Collects rows bound column by column (through [`Binds`], as for a `VALUES` list).
#[derive(Debug, Default)]
pub(crate) struct Columns {
    columns: Vec<Column>,
    next: usize,
}

impl Columns {
    /// Starts the next row.
    pub fn row(&mut self) -> &mut Self {
        self.next = 0;
        self
    }

    /// `unnest($1::text[], $2::bigint[], …)` over the columns, in order.
    pub fn unnest(&self) -> String {
        let arrays: Vec<String> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| match c {
                Column::Text(_) => format!("${}::text[]", i + 1),
                Column::Int(_) => format!("${}::bigint[]", i + 1),
            })
            .collect();
        format!("unnest({})", arrays.join(", "))
    }

    /// Binds every column, in order, to `query` (made from a text using [`Columns::unnest`]).
    pub fn bind<'q>(
        self,
        mut query: Query<'q, Postgres, PgArguments>,
    ) -> Query<'q, Postgres, PgArguments> {
        for c in self.columns {
            query = match c {
                Column::Text(v) => query.bind(v),
                Column::Int(v) => query.bind(v),
            };
        }
        query
    }

    fn column(&mut self, empty: fn() -> Column) -> &mut Column {
        if self.next == self.columns.len() {
            self.columns.push(empty());
        }
        self.next += 1;
        &mut self.columns[self.next - 1]
    }
}

impl Binds for &mut Columns {
    fn text(&mut self, v: Option<String>) -> &mut Self {
        match self.column(|| Column::Text(Vec::new())) {
            Column::Text(values) => values.push(v),
            Column::Int(_) => unreachable!("a column binds one type"),
        }
        self
    }

    fn int(&mut self, v: Option<i64>) -> &mut Self {
        match self.column(|| Column::Int(Vec::new())) {
            Column::Int(values) => values.push(v),
            Column::Text(_) => unreachable!("a column binds one type"),
        }
        self
    }
}
