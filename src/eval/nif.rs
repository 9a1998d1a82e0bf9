//! Reader of GERBIL NIF Turtle files: `nif:Context` subjects carry the document text
//! (`nif:isString`); phrase subjects point at their context (`nif:referenceContext`) and carry
//! `nif:beginIndex`, `nif:endIndex`, `nif:anchorOf` and the entity (`itsrdf:taIdentRef
//! <http://www.wikidata.org/entity/Q…>`).
//!
//! Out: a [`GoldSet`], documents in the order their contexts first appear. A phrase without
//! `itsrdf:taIdentRef`, or pointing outside Wikidata, is a NIL mention. A phrase missing an
//! offset or its context, with an offset outside the text, or whose anchor differs from the text
//! at its offsets, is an error naming the file, the phrase's IRI and the property.

use std::collections::HashMap;
use std::path::Path;

use oxrdf::{Subject, Term};
use oxttl::TurtleParser;

use super::error::EvalError;
use super::gold::{GoldDocument, GoldEntity, GoldMention, GoldSet};

const NIF: &str = "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#";
const TA_IDENT_REF: &str = "http://www.w3.org/2005/11/its/rdf#taIdentRef";
const WIKIDATA_ENTITY: &str = "http://www.wikidata.org/entity/";

/// The properties of one subject that the reader uses.
#[derive(Default)]
struct Node {
    is_string: Option<String>,
    reference_context: Option<String>,
    begin: Option<String>,
    end: Option<String>,
    anchor: Option<String>,
    ident: Option<String>,
}

/// Reads a whole NIF Turtle file.
pub fn read_nif(path: &Path) -> Result<GoldSet, EvalError> {
    let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_nif(path, &bytes)
}

/// Parses NIF Turtle held in memory; `path` names it in errors.
pub fn parse_nif(path: &Path, bytes: &[u8]) -> Result<GoldSet, EvalError> {
    let (order, nodes) = collect_nodes(path, bytes)?;

    let mut documents: Vec<GoldDocument> = Vec::new();
    let mut doc_of: HashMap<&str, usize> = HashMap::new();
    for iri in &order {
        if let Some(text) = &nodes[iri].is_string {
            doc_of.insert(iri.as_str(), documents.len());
            documents.push(GoldDocument {
                id: iri.clone(),
                evaluation_span: (0, text.chars().count()),
                text: text.clone(),
                mentions: Vec::new(),
            });
        }
    }

    for iri in &order {
        let node = &nodes[iri];
        let Some(context) = &node.reference_context else {
            continue;
        };
        let bad = |field: &str, message: String| EvalError::bad(path, iri, field, message);
        let &doc = doc_of.get(context.as_str()).ok_or_else(|| {
            bad(
                "nif:referenceContext",
                format!("<{context}> is not a nif:Context with nif:isString"),
            )
        })?;
        let offset = |value: &Option<String>, field: &str| -> Result<usize, EvalError> {
            let v = value
                .as_deref()
                .ok_or_else(|| bad(field, "missing".into()))?;
            v.parse()
                .map_err(|_| bad(field, format!("{v:?} is not a non-negative integer")))
        };
        let start = offset(&node.begin, "nif:beginIndex")?;
        let end = offset(&node.end, "nif:endIndex")?;
        let chars: Vec<char> = documents[doc].text.chars().collect();
        if start > end || end > chars.len() {
            return Err(bad(
                "nif:endIndex",
                format!(
                    "[{start}, {end}) is not within the text of {} characters",
                    chars.len()
                ),
            ));
        }
        let surface: String = chars[start..end].iter().collect();
        if let Some(anchor) = &node.anchor {
            if *anchor != surface {
                return Err(bad(
                    "nif:anchorOf",
                    format!("{anchor:?} differs from the text at [{start}, {end}): {surface:?}"),
                ));
            }
        }
        let entity = match node
            .ident
            .as_deref()
            .and_then(|i| i.strip_prefix(WIKIDATA_ENTITY))
        {
            Some(q) => GoldEntity::parse(q),
            None => GoldEntity::Nil,
        };
        documents[doc].mentions.push(GoldMention {
            label: None,
            start,
            end,
            surface,
            entity,
            name: None,
            types: Vec::new(),
            optional: false,
            coref: false,
            parent: None,
            children: Vec::new(),
        });
    }
    for d in &mut documents {
        d.mentions.sort_by_key(|m| (m.start, m.end));
    }

    let name = path
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(GoldSet {
        name,
        path: path.to_path_buf(),
        documents,
    })
}

/// Parses the Turtle and groups the properties the reader uses by subject, keeping the order
/// in which subjects first appear.
fn collect_nodes(
    path: &Path,
    bytes: &[u8],
) -> Result<(Vec<String>, HashMap<String, Node>), EvalError> {
    let mut order = Vec::new();
    let mut nodes: HashMap<String, Node> = HashMap::new();
    for triple in TurtleParser::new().for_slice(bytes) {
        let triple = triple.map_err(|e| EvalError::BadInput {
            path: path.to_path_buf(),
            message: format!("Turtle: {e}"),
        })?;
        let Subject::NamedNode(subject) = &triple.subject else {
            continue;
        };
        let predicate = triple.predicate.as_str();
        let value = match &triple.object {
            Term::NamedNode(n) => n.as_str().to_string(),
            Term::Literal(l) => l.value().to_string(),
            _ => continue,
        };
        let slot: fn(&mut Node) -> &mut Option<String> = match predicate.strip_prefix(NIF) {
            Some("isString") => |n: &mut Node| &mut n.is_string,
            Some("referenceContext") => |n: &mut Node| &mut n.reference_context,
            Some("beginIndex") => |n: &mut Node| &mut n.begin,
            Some("endIndex") => |n: &mut Node| &mut n.end,
            Some("anchorOf") => |n: &mut Node| &mut n.anchor,
            _ if predicate == TA_IDENT_REF => |n: &mut Node| &mut n.ident,
            _ => continue,
        };
        let node = nodes
            .entry(subject.as_str().to_string())
            .or_insert_with(|| {
                order.push(subject.as_str().to_string());
                Node::default()
            });
        *slot(node) = Some(value);
    }
    Ok((order, nodes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISTEX: &str = "../shared/data/eval/nif/istex_test.ttl";

    /// The prefixes and the first document of the real test file, with its phrases.
    fn istex_slice() -> String {
        let text = std::fs::read_to_string(ISTEX).unwrap();
        let prefixes: String = text
            .lines()
            .take_while(|l| l.starts_with("@prefix"))
            .map(|l| format!("{l}\n"))
            .collect();
        let blocks: String = text
            .split("\n\n")
            .filter(|b| b.starts_with("<http://opentapioca.org/ref/istex/v1/test/0"))
            .filter(|b| !b.starts_with("<http://opentapioca.org/ref/istex/v1/test/0>,"))
            .filter(|b| {
                b.starts_with("<http://opentapioca.org/ref/istex/v1/test/0#")
                    || b.starts_with("<http://opentapioca.org/ref/istex/v1/test/0> ")
            })
            .map(|b| format!("{b}\n\n"))
            .collect();
        format!("{prefixes}\n{blocks}")
    }

    #[test]
    fn reads_a_slice_of_istex() {
        let set = parse_nif(Path::new("istex_test.ttl"), istex_slice().as_bytes()).unwrap();
        assert_eq!(set.documents.len(), 1);
        let doc = &set.documents[0];
        assert_eq!(doc.id, "http://opentapioca.org/ref/istex/v1/test/0");
        let got: Vec<_> = doc
            .mentions
            .iter()
            .map(|m| (m.start, m.end, m.surface.as_str(), m.entity.qid().unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                (25, 47, "University of Aberdeen", "Q270532"),
                (72, 80, "Aberdeen", "Q36405"),
                (82, 84, "UK", "Q145"),
            ]
        );
    }

    #[test]
    fn reads_the_whole_test_file() {
        let set = read_nif(Path::new(ISTEX)).unwrap();
        assert_eq!(set.name, "istex_test");
        assert_eq!(set.documents.len(), 250);
        assert_eq!(set.label_counts().labels, 670);
    }

    #[test]
    fn missing_offset_names_the_phrase() {
        let slice = istex_slice();
        let broken: String = slice
            .lines()
            .filter(|l| !l.contains("nif:beginIndex \"72\""))
            .map(|l| format!("{l}\n"))
            .collect();
        let err = parse_nif(Path::new("istex_test.ttl"), broken.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("istex_test.ttl"), "{err}");
        assert!(err.contains("test/0#offset_72_80"), "{err}");
        assert!(err.contains("nif:beginIndex: missing"), "{err}");
    }

    #[test]
    fn turtle_syntax_error_names_the_line() {
        let err = parse_nif(Path::new("x.ttl"), b"<a> <b> \"unterminated .\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.ttl") && err.contains("line 1"), "{err}");
    }
}
