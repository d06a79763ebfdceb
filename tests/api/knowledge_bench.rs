//! A knowledge base of 10,000 articles (BENCHMARKS.md, "Work that grows with the work"): for
//! 100, 1,000 and 10,000 Markdown articles on disk, the time to load and index them, the
//! memory the index takes (this process's RSS growth), and the p50 / p99 time of one
//! retrieval per question, with the growth from one size to the next.
//!
//! Ignored: a measurement, not a check (no timed assertions). Run it with
//! `cargo test -p baton --test api knowledge_bench -- --ignored --nocapture --test-threads 1`.

use std::time::{Duration, Instant};

use baton::knowledge::{KnowledgeBase, KnowledgeOptions};

use crate::helpers::TempDir;

const SIZES: [usize; 3] = [100, 1_000, 10_000];
/// Distinct made-up words the articles are written in (a help centre's vocabulary).
const VOCABULARY: usize = 20_000;
const QUESTIONS: usize = 1_000;

#[test]
#[ignore = "a benchmark: prints figures"]
fn knowledge_bench_ten_thousand_articles() {
    println!("\nknowledge base: load, memory and retrieval per question ({QUESTIONS} questions)");
    println!("| articles | passages | load | memory | retrieval p50 | retrieval p99 |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let mut previous: Option<(f64, f64, f64)> = None;
    for articles in SIZES {
        let dir = TempDir::new("kb-bench");
        let mut random = Random(articles as u64 + 7);
        write_articles(&dir.0, articles, &mut random);
        let before = crate::scale_bench::rss_bytes();
        let started = Instant::now();
        let base = KnowledgeBase::load(&dir.0, &KnowledgeOptions::default()).expect("the articles load");
        let load = started.elapsed();
        let memory = (crate::scale_bench::rss_bytes() - before).max(0);
        let mut times: Vec<Duration> = (0..QUESTIONS)
            .map(|_| {
                let question = question(&mut random);
                let started = Instant::now();
                std::hint::black_box(base.search(&question, 5));
                started.elapsed()
            })
            .collect();
        times.sort();
        let (p50, p99) = (times[QUESTIONS / 2], times[QUESTIONS * 99 / 100]);
        println!(
            "| {articles} | {} | {:.1} ms | {:.1} MB | {:.1} µs | {:.1} µs |",
            base.len(),
            ms(load),
            memory as f64 / 1e6,
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6
        );
        let now = (ms(load), memory as f64, p99.as_secs_f64());
        if let Some((load_before, memory_before, p99_before)) = previous {
            println!(
                "growth (10x the articles): load {:.1}x, memory {:.1}x, retrieval p99 {:.1}x",
                now.0 / load_before.max(1e-6),
                now.1 / memory_before.max(1.0),
                now.2 / p99_before.max(1e-9)
            );
        }
        previous = Some(now);
    }
}

/// `count` articles of three sections each, in folders of 100.
fn write_articles(dir: &std::path::Path, count: usize, random: &mut Random) {
    for i in 0..count {
        let folder = dir.join(format!("topic-{}", i / 100));
        std::fs::create_dir_all(&folder).expect("create a topic folder");
        let mut page = format!("# {}\n\n", sentence(random, 4));
        for _ in 0..3 {
            page.push_str(&format!("## {}\n\n{}\n\n", sentence(random, 5), sentence(random, 60)));
        }
        std::fs::write(folder.join(format!("article-{i}.md")), page).expect("write an article");
    }
}

fn question(random: &mut Random) -> String {
    format!("how do I {}?", sentence(random, 6))
}

/// `words` words, common ones more often than rare ones (a Zipf-like skew).
fn sentence(random: &mut Random, words: usize) -> String {
    (0..words).map(|_| word(random.below(VOCABULARY).min(random.below(VOCABULARY)))).collect::<Vec<_>>().join(" ")
}

/// A pronounceable made-up word for `n`.
fn word(mut n: usize) -> String {
    const SYLLABLES: [&str; 16] =
        ["ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "bi", "da", "fu", "go", "hi", "ja", "pe", "zu"];
    let mut word = String::new();
    loop {
        word.push_str(SYLLABLES[n % 16]);
        n /= 16;
        if n == 0 {
            return word;
        }
    }
}

/// A small deterministic generator (xorshift), so every run writes the same articles.
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
