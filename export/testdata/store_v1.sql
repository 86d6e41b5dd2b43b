-- A trace store as llmtap wrote it at schema version 1 (before attributes were encoded per span):
-- support_trace() with two content attributes on its generation, and numbered_trace(0..2, 3).
-- Loaded by store_migration_test.cc; generated with SqliteStore at schema 1 and `sqlite3 .dump`.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE traces(
  trace_id TEXT PRIMARY KEY,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL,
  workflow TEXT NOT NULL,
  agents TEXT NOT NULL,          -- JSON array, in order of first appearance
  span_count INTEGER NOT NULL,
  cost_usd REAL,                 -- NULL when no span was priced
  error_count INTEGER NOT NULL,
  updated_ns INTEGER NOT NULL);
INSERT INTO traces VALUES('0af7651916cd43dd8448eb211c80319c',1763000000000000000,1763000001750000000,'Support Agent','["Billing Agent"]',6,0.014200000000000000816,1,1796127461991531718);
INSERT INTO traces VALUES('00000000000000000000000000000001',1763000000000000000,1763000000007000000,'invoke_workflow run0','[]',3,NULL,0,1796127461991594676);
INSERT INTO traces VALUES('00000000000000000000000000000002',1763000001000000000,1763000001007000000,'invoke_workflow run1','[]',3,NULL,0,1796127461991645922);
INSERT INTO traces VALUES('00000000000000000000000000000003',1763000002000000000,1763000002007000000,'invoke_workflow run2','[]',3,NULL,0,1796127461991694774);
CREATE TABLE spans(
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  parent_span_id TEXT NOT NULL,
  seq INTEGER NOT NULL,          -- position in the trace as emitted, breaks start-time ties
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL,
  error INTEGER NOT NULL,
  status_message TEXT NOT NULL,
  PRIMARY KEY(trace_id, span_id)) WITHOUT ROWID;
INSERT INTO spans VALUES('00000000000000000000000000000001','0000000100000001','',0,'invoke_workflow run0','workflow',1763000000000000000,1763000000005000000,0,'');
INSERT INTO spans VALUES('00000000000000000000000000000001','0000000100000002','0000000100000001',1,'chat gpt-4o-mini','generation',1763000000001000000,1763000000006000000,0,'');
INSERT INTO spans VALUES('00000000000000000000000000000001','0000000100000003','0000000100000001',2,'chat gpt-4o-mini','generation',1763000000002000000,1763000000007000000,0,'');
INSERT INTO spans VALUES('00000000000000000000000000000002','0000000200000001','',0,'invoke_workflow run1','workflow',1763000001000000000,1763000001005000000,0,'');
INSERT INTO spans VALUES('00000000000000000000000000000002','0000000200000002','0000000200000001',1,'chat gpt-4o-mini','generation',1763000001001000000,1763000001006000000,0,'');
INSERT INTO spans VALUES('00000000000000000000000000000002','0000000200000003','0000000200000001',2,'chat gpt-4o-mini','generation',1763000001002000000,1763000001007000000,0,'');
INSERT INTO spans VALUES('00000000000000000000000000000003','0000000300000001','',0,'invoke_workflow run2','workflow',1763000002000000000,1763000002005000000,0,'');
INSERT INTO spans VALUES('00000000000000000000000000000003','0000000300000002','0000000300000001',1,'chat gpt-4o-mini','generation',1763000002001000000,1763000002006000000,0,'');
INSERT INTO spans VALUES('00000000000000000000000000000003','0000000300000003','0000000300000001',2,'chat gpt-4o-mini','generation',1763000002002000000,1763000002007000000,0,'');
INSERT INTO spans VALUES('0af7651916cd43dd8448eb211c80319c','00f067aa0ba902b7','b7ad6b7169203331',1,'execute_tool search_knowledge_base','tool',1763000000010000000,1763000000055000000,0,'');
INSERT INTO spans VALUES('0af7651916cd43dd8448eb211c80319c','1111111111111111','b7ad6b7169203331',3,'handoff Support Agent -> Billing Agent','handoff',1763000000240000000,1763000000241000000,0,'');
INSERT INTO spans VALUES('0af7651916cd43dd8448eb211c80319c','2222222222222222','1111111111111111',4,'invoke_agent Billing Agent','agent',1763000000245000000,1763000000380000000,0,'');
INSERT INTO spans VALUES('0af7651916cd43dd8448eb211c80319c','3333333333333333','2222222222222222',5,'execute_tool refund','tool',1763000000250000000,1763000001750000000,1,'order not found');
INSERT INTO spans VALUES('0af7651916cd43dd8448eb211c80319c','53995c3f42cd8ad8','b7ad6b7169203331',2,'chat gpt-4o','generation',1763000000060000000,1763000000240000000,0,'');
INSERT INTO spans VALUES('0af7651916cd43dd8448eb211c80319c','b7ad6b7169203331','',0,'invoke_workflow Support Agent','workflow',1763000000000000000,1763000000380000000,0,'');
CREATE TABLE attributes(
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  key TEXT NOT NULL,
  type TEXT NOT NULL,            -- string | int | double | bool | string[] (JSON text)
  value,
  PRIMARY KEY(trace_id, span_id, idx)) WITHOUT ROWID;
INSERT INTO attributes VALUES('00000000000000000000000000000001','0000000100000001',0,'gen_ai.operation.name','string','invoke_workflow');
INSERT INTO attributes VALUES('00000000000000000000000000000001','0000000100000002',0,'gen_ai.operation.name','string','chat');
INSERT INTO attributes VALUES('00000000000000000000000000000001','0000000100000003',0,'gen_ai.operation.name','string','chat');
INSERT INTO attributes VALUES('00000000000000000000000000000002','0000000200000001',0,'gen_ai.operation.name','string','invoke_workflow');
INSERT INTO attributes VALUES('00000000000000000000000000000002','0000000200000002',0,'gen_ai.operation.name','string','chat');
INSERT INTO attributes VALUES('00000000000000000000000000000002','0000000200000003',0,'gen_ai.operation.name','string','chat');
INSERT INTO attributes VALUES('00000000000000000000000000000003','0000000300000001',0,'gen_ai.operation.name','string','invoke_workflow');
INSERT INTO attributes VALUES('00000000000000000000000000000003','0000000300000002',0,'gen_ai.operation.name','string','chat');
INSERT INTO attributes VALUES('00000000000000000000000000000003','0000000300000003',0,'gen_ai.operation.name','string','chat');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','00f067aa0ba902b7',0,'llmtap.span.kind','string','tool');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','00f067aa0ba902b7',1,'gen_ai.tool.name','string','search_knowledge_base');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','00f067aa0ba902b7',2,'gen_ai.tool.call.id','string','call_1');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','1111111111111111',0,'llmtap.span.kind','string','handoff');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','1111111111111111',1,'llmtap.handoff.from_agent','string','Support Agent');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','1111111111111111',2,'llmtap.handoff.to_agent','string','Billing Agent');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','2222222222222222',0,'llmtap.span.kind','string','agent');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','2222222222222222',1,'gen_ai.agent.name','string','Billing Agent');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','3333333333333333',0,'llmtap.span.kind','string','tool');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','3333333333333333',1,'gen_ai.tool.name','string','refund');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','53995c3f42cd8ad8',0,'llmtap.span.kind','string','generation');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','53995c3f42cd8ad8',1,'gen_ai.request.model','string','gpt-4o');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','53995c3f42cd8ad8',2,'gen_ai.response.model','string','gpt-4o');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','53995c3f42cd8ad8',3,'gen_ai.usage.input_tokens','int',1200);
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','53995c3f42cd8ad8',4,'gen_ai.usage.output_tokens','int',80);
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','53995c3f42cd8ad8',5,'gen_ai.request.stream','bool',1);
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','53995c3f42cd8ad8',6,'gen_ai.response.finish_reasons','string[]','["tool_calls"]');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','53995c3f42cd8ad8',7,'llm.cost.total','double',0.0089999999999999993199);
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','53995c3f42cd8ad8',8,'gen_ai.input.messages','string','[{"role":"user","content":"where is my order?"}]');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','53995c3f42cd8ad8',9,'gen_ai.output.messages','string','[{"role":"assistant","content":"looking"}]');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','b7ad6b7169203331',0,'llmtap.span.kind','string','workflow');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','b7ad6b7169203331',1,'gen_ai.operation.name','string','invoke_workflow');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','b7ad6b7169203331',2,'gen_ai.workflow.name','string','Support Agent');
INSERT INTO attributes VALUES('0af7651916cd43dd8448eb211c80319c','b7ad6b7169203331',3,'llm.cost.total','double',0.014200000000000000816);
CREATE INDEX traces_by_start ON traces(start_ns DESC);
COMMIT;
PRAGMA user_version=1;
