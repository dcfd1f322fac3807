//! Training examples with each feature's name kept once: training holds every report's features at
//! once, and hundreds of reports share most of their words and phrases.

use std::collections::HashMap;

use crate::grouping::Features;

/// A report's features as `(feature id, weight)` pairs.
pub type Row = Vec<(u32, f64)>;

#[derive(Debug, Default)]
pub struct Vocabulary {
    names: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Vocabulary {
    /// `features` as a row (in id order: training reads the model's weights in order), the names
    /// it brings new moved in.
    pub fn row(&mut self, features: Features) -> Row {
        let mut row: Row = features.into_iter().map(|(name, w)| (self.id(name), w)).collect();
        row.sort_unstable_by_key(|(id, _)| *id);
        row
    }

    /// As [`Vocabulary::row`], the names it brings new copied.
    pub fn row_of(&mut self, features: &Features) -> Row {
        let mut row: Row = features
            .iter()
            .map(|(name, w)| match self.ids.get(name) {
                Some(id) => (*id, *w),
                None => (self.id(name.clone()), *w),
            })
            .collect();
        row.sort_unstable_by_key(|(id, _)| *id);
        row
    }

    fn id(&mut self, name: String) -> u32 {
        if let Some(id) = self.ids.get(&name) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }

    /// How many names it holds (every id is below it).
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_kept_once_and_read_back() {
        let mut v = Vocabulary::default();
        let a = v.row(Features::from([("lønn".to_string(), 2.0)]));
        let b = v.row_of(&Features::from([("lønn".to_string(), 1.0), ("~til".to_string(), 0.5)]));
        assert_eq!(a, [(0, 2.0)]);
        assert_eq!(b, [(0, 1.0), (1, 0.5)]);
        assert_eq!((v.name(0), v.name(1), v.name(7)), ("lønn", "~til", ""));
    }
}
