//! Reading a knowledge-base folder into documents.
//!
//! A site's knowledge base is whatever Markdown its owner keeps in `kb/`, organised in
//! sub-folders as they like. The order is made deterministic (sorted paths), so two loads
//! of the same folder give the same passages in the same order, and ties in ranking break
//! the same way every time.

use std::path::{Path, PathBuf};

use super::{Document, KnowledgeError};

/// Reads every `*.md` under `dir`, recursively, in sorted path order. Names starting with a
/// dot are skipped (editor and VCS files). An absent `dir` gives no documents.
pub(crate) fn read_documents(dir: &Path) -> Result<Vec<Document>, KnowledgeError> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    collect_markdown_files(dir, &mut files)?;
    files.sort();
    let mut documents = Vec::with_capacity(files.len());
    for file in files {
        let markdown =
            std::fs::read_to_string(&file).map_err(|source| KnowledgeError::ReadFile { path: file.clone(), source })?;
        // unwrap: every collected file was found under `dir`.
        let relative = file.strip_prefix(dir).expect("file is under dir");
        let parts: Vec<_> = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect();
        documents.push(Document { path: parts.join("/"), markdown });
    }
    Ok(documents)
}

fn collect_markdown_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), KnowledgeError> {
    let list_error = |source| KnowledgeError::ReadDir { path: dir.to_owned(), source };
    for entry in std::fs::read_dir(dir).map_err(list_error)? {
        let path = entry.map_err(list_error)?.path();
        let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect_markdown_files(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_documents_walks_the_folder_in_sorted_order() {
        let dir = scratch_dir("walk");
        std::fs::create_dir_all(dir.join("b/c")).unwrap();
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        for file in ["z.md", "b/c/y.md", "b/a.md", "notes.txt", ".git/x.md", ".draft.md"] {
            std::fs::write(dir.join(file), format!("# {file}")).unwrap();
        }
        let paths: Vec<String> = read_documents(&dir).unwrap().into_iter().map(|d| d.path).collect();
        assert_eq!(paths, ["b/a.md", "b/c/y.md", "z.md"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_absent_folder_has_no_documents() {
        assert!(read_documents(Path::new("/nonexistent/baton/kb")).unwrap().is_empty());
    }

    #[test]
    fn a_file_that_is_not_utf8_is_an_error_naming_it() {
        let dir = scratch_dir("binary");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("bad.md"), [0xff, 0xfe, 0x00]).unwrap();
        let error = read_documents(&dir).unwrap_err();
        assert!(error.to_string().contains("bad.md"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("baton-kb-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }
}
