"""GET /v1/agents/ and /v1/agents/{id}: the simulated agents in Letta's AgentState shape.

Letta 0.16.8's AgentState is large (memory blocks, tool schemas, system prompt); this keeps its
top-level shape and the fields a client names an agent by: id, name, agent_type, llm_config,
the `model` handle, tags, description, created_at.
"""

from __future__ import annotations

from datetime import datetime

from .catalog import ORG_ID, TOOL_SCHEMAS, USER_ID, Agent, iso_z, system_prompt

DESCRIPTIONS = {
    "demo-support-bot": "Answers customer questions about orders and refunds.",
    "demo-research-assistant": "Searches the web and the archive and writes short briefs.",
    "demo-ops-agent": "Runs maintenance scripts and emails the on-call engineer.",
    "demo-polyglot": "Translates and drafts replies in several languages.",
}


def agent_payload(agent: Agent, created_at: datetime, updated_at: datetime) -> dict:
    return {
        "created_by_id": USER_ID,
        "last_updated_by_id": USER_ID,
        "created_at": iso_z(created_at),
        "updated_at": iso_z(updated_at),
        "id": agent.id,
        "name": agent.name,
        "tool_rules": [],
        "message_ids": [],
        "system": system_prompt(agent, created_at),
        "agent_type": agent.agent_type,
        "llm_config": agent.model.llm_config(),
        "embedding_config": {
            "embedding_endpoint_type": "openai",
            "embedding_endpoint": "https://api.openai.com/v1",
            "embedding_model": "text-embedding-3-small",
            "embedding_dim": 1536,
            "embedding_chunk_size": 300,
            "handle": "openai/text-embedding-3-small",
            "batch_size": 32,
            "azure_endpoint": None,
            "azure_version": None,
            "azure_deployment": None,
        },
        "model": agent.model.handle,
        "embedding": "openai/text-embedding-3-small",
        "response_format": None,
        # agents beyond the four templates are named "<template>-<n>"
        "description": DESCRIPTIONS.get(agent.name) or DESCRIPTIONS.get(agent.name.rsplit("-", 1)[0]),
        "metadata": None,
        "memory": {"agent_type": agent.agent_type, "blocks": [], "file_blocks": [], "prompt_template": ""},
        "blocks": [],
        "tools": [
            {
                "id": f"tool-{index:08d}-0000-4000-8000-000000000000",
                "tool_type": "letta_core"
                if name.startswith(("memory", "conversation", "send"))
                else "custom",
                "description": TOOL_SCHEMAS[name][0],
                "name": name,
                "tags": [],
                "json_schema": {
                    "name": name,
                    "description": TOOL_SCHEMAS[name][0],
                    "parameters": TOOL_SCHEMAS[name][1],
                },
            }
            for index, name in enumerate(agent.tools)
            if name in TOOL_SCHEMAS
        ],
        "sources": [],
        "tags": list(agent.tags),
        "tool_exec_environment_variables": [],
        "secrets": [],
        "project_id": None,
        "template_id": None,
        "base_template_id": None,
        "deployment_id": None,
        "entity_id": None,
        "identity_ids": [],
        "identities": [],
        "message_buffer_autoclear": False,
        "enable_sleeptime": None,
        "multi_agent_group": None,
        "managed_group": None,
        "last_run_completion": None,
        "last_run_duration_ms": None,
        "last_stop_reason": None,
        "timezone": "UTC",
        "max_files_open": None,
        "per_file_view_window_char_limit": None,
        "hidden": None,
        "organization_id": ORG_ID,
    }
