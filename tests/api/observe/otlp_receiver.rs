//! A small OTLP/HTTP receiver: real HTTP on a free port, `POST /v1/traces` with a protobuf
//! `ExportTraceServiceRequest` (decoded with opentelemetry-proto), every span kept for the
//! test with its ids, parent and string attributes.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::web::Bytes;
use actix_web::{App, HttpResponse, HttpServer, web};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message;

#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    pub name: String,
    pub trace_id: Vec<u8>,
    pub span_id: Vec<u8>,
    /// Empty for a root span.
    pub parent_span_id: Vec<u8>,
    pub attributes: HashMap<String, String>,
    /// The resource's `service.name`.
    pub service: String,
}

#[derive(Clone, Default)]
pub struct OtlpReceiver {
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
    pub endpoint: String,
}

impl OtlpReceiver {
    pub fn start() -> OtlpReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the OTLP receiver");
        let port = listener.local_addr().unwrap().port();
        let receiver = OtlpReceiver { endpoint: format!("http://127.0.0.1:{port}/v1/traces"), ..Default::default() };
        let state = receiver.clone();
        let server = HttpServer::new(move || {
            App::new().app_data(web::Data::new(state.clone())).route("/v1/traces", web::post().to(export))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        receiver
    }

    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.spans.lock().unwrap().clone()
    }
}

async fn export(receiver: web::Data<OtlpReceiver>, body: Bytes) -> HttpResponse {
    let request = match ExportTraceServiceRequest::decode(body) {
        Ok(request) => request,
        Err(error) => return HttpResponse::BadRequest().body(format!("not an ExportTraceServiceRequest: {error}")),
    };
    let mut kept = Vec::new();
    for resource_spans in request.resource_spans {
        let resource = resource_spans.resource.map(|r| strings(&r.attributes)).unwrap_or_default();
        let service = resource.get("service.name").cloned().unwrap_or_default();
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                kept.push(ReceivedSpan {
                    name: span.name,
                    trace_id: span.trace_id,
                    span_id: span.span_id,
                    parent_span_id: span.parent_span_id,
                    attributes: strings(&span.attributes),
                    service: service.clone(),
                });
            }
        }
    }
    receiver.spans.lock().unwrap().extend(kept);
    HttpResponse::Ok()
        .content_type("application/x-protobuf")
        .body(ExportTraceServiceResponse::default().encode_to_vec())
}

/// The attributes with a string, integer or boolean value, as text.
fn strings(attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue]) -> HashMap<String, String> {
    attributes
        .iter()
        .filter_map(|kv| {
            let value = match kv.value.as_ref()?.value.as_ref()? {
                AnyValue::StringValue(s) => s.clone(),
                AnyValue::IntValue(i) => i.to_string(),
                AnyValue::BoolValue(b) => b.to_string(),
                _ => return None,
            };
            Some((kv.key.clone(), value))
        })
        .collect()
}
