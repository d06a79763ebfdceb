//! The BM25 ranker: an inverted index over the passages' terms.
//!
//! BM25 scores a passage by summing, over the query terms it contains, the term's rarity
//! (IDF) times a saturating function of how often it occurs, normalised by length. This is
//! its BM25F form, over three fields of different worth: the passage's own heading (a
//! heading says what its section answers more reliably than any sentence in it), the
//! parent headings (context shared with the sibling sections) and the body. Each field is
//! normalised by its own average length, so a short, exact heading beats a long one that
//! merely contains the same words.
//!
//! The index is built once at load and never changes, so it is a plain struct shared
//! read-only behind the knowledge base's `Arc`. Since lengths are fixed, each posting stores
//! its finished pseudo-frequency; a query then touches only its own terms' posting lists:
//! one accumulator of a float per passage, a few term lookups, a partial sort.

use std::borrow::Borrow;
use std::collections::HashMap;

use super::confidence::Evidence;
use super::text::Analyzer;
use super::{Passage, Ranker, Ranking, TITLE_SEPARATOR};

/// Term-frequency saturation: the 2nd occurrence of a term counts much less than the 1st.
/// The usual 1.2; help passages are short, so there is little to gain from tuning.
pub const K1: f32 = 1.2;

/// Length normalisation of the heading and the body: 0 ignores length, 1 fully divides by
/// it. The usual 0.75.
pub const B: f32 = 0.75;

/// How many times a term of the passage's own heading counts. A heading says what its
/// section answers ("How to return an item") more reliably than any sentence in it.
pub const HEADING_WEIGHT: f32 = 3.0;

/// How many times a term of the parent headings counts ("Returns and refunds" above "How to
/// return an item"). They give a short section its context, but every sibling section
/// shares them, so they count like body text and are not length-normalised.
pub const CONTEXT_WEIGHT: f32 = 1.0;

/// One passage's weighted, length-normalised count of one term (BM25F's pseudo-frequency).
#[derive(Clone, Copy)]
struct Posting {
    passage: u32,
    frequency: f32,
}

/// A BM25 index over a fixed list of passages.
pub(crate) struct Bm25 {
    analyzer: Analyzer,
    term_ids: HashMap<String, u32>,
    /// Per term id, its postings sorted by passage index.
    postings: Vec<Vec<Posting>>,
    /// Per term id, its inverse document frequency.
    idf: Vec<f32>,
    /// The IDF a term would have if it occurred in no passage: the weight of a query word
    /// the knowledge base has never seen, which is evidence that it is not covered.
    unseen_idf: f32,
    /// Per passage, the distinct term ids of its own heading, for the confidence.
    headings: Vec<Vec<u32>>,
}

/// A passage's terms, field by field.
struct Fields {
    heading: Vec<String>,
    context: Vec<String>,
    body: Vec<String>,
}

impl Fields {
    fn of(passage: &Passage, analyzer: &Analyzer) -> Fields {
        let (context, heading) = passage.title.rsplit_once(TITLE_SEPARATOR).unwrap_or(("", &passage.title));
        Fields {
            heading: analyzer.terms(heading),
            context: analyzer.terms(context),
            body: analyzer.terms(&passage.text),
        }
    }
}

impl Bm25 {
    /// Indexes `passages`; the ranking's indices are positions in this slice.
    pub(crate) fn new(passages: &[impl Borrow<Passage>], analyzer: Analyzer) -> Bm25 {
        let fields: Vec<Fields> = passages.iter().map(|p| Fields::of(p.borrow(), &analyzer)).collect();
        let average = |field: fn(&Fields) -> &Vec<String>| {
            let total: usize = fields.iter().map(|f| field(f).len()).sum();
            (total as f32 / fields.len().max(1) as f32).max(1.0)
        };
        let averages = (average(|f| &f.heading), average(|f| &f.body));
        let mut index = Bm25 {
            analyzer,
            term_ids: HashMap::new(),
            postings: Vec::new(),
            idf: Vec::new(),
            unseen_idf: idf(fields.len() as f32, 0.0),
            headings: Vec::with_capacity(fields.len()),
        };
        for (passage, fields) in fields.iter().enumerate() {
            index.add(passage as u32, fields, averages);
        }
        let count = fields.len() as f32;
        index.idf = index.postings.iter().map(|p| idf(count, p.len() as f32)).collect();
        index
    }

    /// Adds one passage's postings: per term, the sum over fields of the field's weight
    /// times the term's count, divided by the field's length norm (BM25F).
    fn add(&mut self, passage: u32, fields: &Fields, (heading_average, body_average): (f32, f32)) {
        let heading_weight = HEADING_WEIGHT / length_norm(fields.heading.len(), heading_average);
        let body_weight = 1.0 / length_norm(fields.body.len(), body_average);
        let weighted =
            [(&fields.heading, heading_weight), (&fields.context, CONTEXT_WEIGHT), (&fields.body, body_weight)];
        let mut frequencies: HashMap<u32, f32> = HashMap::new();
        for (terms, weight) in weighted {
            for term in terms {
                *frequencies.entry(self.term_id(term)).or_insert(0.0) += weight;
            }
        }
        let mut heading: Vec<u32> = fields.heading.iter().map(|t| self.term_id(t)).collect();
        heading.sort_unstable();
        heading.dedup();
        self.headings.push(heading);
        for (id, frequency) in frequencies {
            self.postings[id as usize].push(Posting { passage, frequency });
        }
    }

    fn term_id(&mut self, term: &str) -> u32 {
        if let Some(&id) = self.term_ids.get(term) {
            return id;
        }
        let id = self.postings.len() as u32;
        self.term_ids.insert(term.to_owned(), id);
        self.postings.push(Vec::new());
        id
    }

    /// The query's distinct terms, each with its id if the index knows it.
    fn query_terms(&self, query: &str) -> Vec<Option<u32>> {
        let mut terms = self.analyzer.terms(query);
        terms.sort_unstable();
        terms.dedup();
        terms.iter().map(|t| self.term_ids.get(t).copied()).collect()
    }

    /// Every passage's score, indexed by passage.
    fn scores(&self, terms: &[Option<u32>]) -> Vec<f32> {
        let mut scores = vec![0.0; self.headings.len()];
        for &id in terms.iter().flatten() {
            let idf = self.idf[id as usize];
            for posting in &self.postings[id as usize] {
                let tf = posting.frequency;
                scores[posting.passage as usize] += idf * tf * (K1 + 1.0) / (tf + K1);
            }
        }
        scores
    }

    /// The weights behind the confidence; `best` is the top passage, if any matched.
    fn evidence(&self, terms: &[Option<u32>], best: Option<(usize, f32)>) -> Evidence {
        let weight = |id: &Option<u32>| id.map_or(self.unseen_idf, |id| self.idf[id as usize]);
        let mut evidence = Evidence {
            query_weight: terms.iter().map(weight).sum(),
            unseen_weight: self.unseen_idf,
            ..Evidence::default()
        };
        let Some((passage, score)) = best else {
            return evidence;
        };
        evidence.best_score = score;
        for &id in terms.iter().flatten() {
            let postings = &self.postings[id as usize];
            if postings.binary_search_by_key(&(passage as u32), |p| p.passage).is_ok() {
                evidence.matched_weight += self.idf[id as usize];
            }
        }
        for &id in &self.headings[passage] {
            evidence.heading_weight += self.idf[id as usize];
            if terms.contains(&Some(id)) {
                evidence.heading_matched_weight += self.idf[id as usize];
            }
        }
        evidence
    }
}

impl Ranker for Bm25 {
    fn rank(&self, query: &str, limit: usize) -> Ranking {
        let terms = self.query_terms(query);
        let scores = self.scores(&terms);
        let mut ranked: Vec<(usize, f32)> = scores.into_iter().enumerate().filter(|&(_, s)| s > 0.0).collect();
        // Ties go to the earlier passage, so results do not depend on sort internals.
        let order = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if ranked.len() > limit.max(1) {
            ranked.select_nth_unstable_by(limit.max(1) - 1, order);
            ranked.truncate(limit.max(1));
        }
        ranked.sort_unstable_by(order);
        let confidence = self.evidence(&terms, ranked.first().copied()).confidence();
        ranked.truncate(limit);
        Ranking { hits: ranked, confidence }
    }
}

/// BM25's length normalisation of one field: `1 - B + B * length / average`.
fn length_norm(length: usize, average: f32) -> f32 {
    1.0 - B + B * length as f32 / average
}

/// BM25's IDF in the form that is never negative: `ln(1 + (N - n + 0.5) / (n + 0.5))`.
fn idf(passages: f32, containing: f32) -> f32 {
    (1.0 + (passages - containing + 0.5) / (containing + 0.5)).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(title: &str, text: &str) -> Passage {
        Passage { title: title.to_owned(), text: text.to_owned(), url: String::new() }
    }

    fn rank(passages: &[Passage], query: &str, limit: usize) -> Ranking {
        Bm25::new(passages, Analyzer::new("en")).rank(query, limit)
    }

    fn filler(topic: &str) -> Passage {
        passage(&format!("Help › {topic}"), &format!("All about {topic} and nothing else."))
    }

    #[test]
    fn a_heading_match_outranks_a_body_match() {
        let passages = [
            passage("Help › Delivery", "Parcels are sent with a carrier; returns go back the same way."),
            passage("Help › Returns", "Send the parcel back within 30 days."),
        ];
        assert_eq!(rank(&passages, "returns", 10).hits[0].0, 1);
    }

    #[test]
    fn a_passage_with_more_query_terms_wins() {
        let passages = [passage("A", "gift cards"), passage("B", "gift cards expire after 3 years"), filler("x")];
        assert_eq!(rank(&passages, "when do gift cards expire", 10).hits[0].0, 1);
    }

    #[test]
    fn a_rare_term_outweighs_a_common_one() {
        let mut passages: Vec<Passage> = (0..5).map(|i| filler(&format!("order {i}"))).collect();
        passages.push(passage("Invoices", "Download the invoice as a PDF."));
        passages.push(passage("Orders", "Every order is listed here."));
        let ranking = rank(&passages, "order invoice", 10);
        assert_eq!(ranking.hits[0].0, 5);
    }

    #[test]
    fn passages_without_any_query_term_are_left_out() {
        let passages = [passage("Shipping", "We ship to Canada."), passage("Payments", "We take cards.")];
        let ranking = rank(&passages, "canada", 10);
        assert_eq!(ranking.hits.len(), 1);
        assert!(ranking.hits[0].1 > 0.0);
    }

    #[test]
    fn equal_scores_keep_passage_order() {
        let passages = [filler("alpha"), passage("Same", "twin"), passage("Same", "twin")];
        let hits = rank(&passages, "twin", 10).hits;
        assert_eq!((hits[0].0, hits[1].0), (1, 2));
        assert_eq!(hits[0].1, hits[1].1);
    }

    #[test]
    fn the_limit_cuts_the_hits_but_not_the_confidence() {
        let passages: Vec<Passage> = (0..20).map(|i| passage(&format!("Topic {i}"), "shared words here")).collect();
        let all = rank(&passages, "shared words", 20);
        let three = rank(&passages, "shared words", 3);
        let none = rank(&passages, "shared words", 0);
        assert_eq!((all.hits.len(), three.hits.len(), none.hits.len()), (20, 3, 0));
        assert_eq!(three.hits[..], all.hits[..3]);
        assert_eq!((three.confidence, none.confidence), (all.confidence, all.confidence));
    }

    #[test]
    fn an_empty_index_ranks_nothing() {
        let ranking = rank(&[] as &[Passage], "anything", 5);
        assert!(ranking.hits.is_empty());
        assert_eq!(ranking.confidence, 0.0);
    }
}
