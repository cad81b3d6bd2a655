# Test-only (the matrix writes it into its scratch copy): what the deployed service promises, as
# far as a plan shows it. Checked inside the plan, so no `terraform show` has to load the
# provider again to read it. Only hashicorp/aws is installed (the mirror), so a resource of any
# other provider stops `init` or the plan before these run.
locals {
  matrix_limit = var.max_request_body_bytes
  matrix_width = length(tostring(local.matrix_limit))
  matrix_lengths = [
    0, 1, 9, 10, floor(local.matrix_limit / 10), local.matrix_limit - 1, local.matrix_limit,
    local.matrix_limit + 1, local.matrix_limit + 9, local.matrix_limit * 10,
    pow(10, local.matrix_width) - 1, pow(10, local.matrix_width), 9223372036854775808,
  ]
  matrix_texts = flatten([
    for length in local.matrix_lengths : [tostring(length), "00${length}"] if length >= 0
  ])
  matrix_body_pattern = one([
    for rule in aws_wafv2_web_acl.edge.rule :
    rule.statement[0].regex_match_statement[0].regex_string
    if rule.name == "request-body-too-large"
  ])
  matrix_wrongly_matched = [
    for text in local.matrix_texts : text
    if can(regex(local.matrix_body_pattern, text)) != (tonumber(text) > local.matrix_limit)
  ]
  matrix_http = aws_lb_listener.http.default_action[0]
}

resource "terraform_data" "matrix_promises" {
  lifecycle {
    precondition {
      condition     = local.matrix_http.type == "redirect" && local.matrix_http.redirect[0].protocol == "HTTPS"
      error_message = "PROMISE BROKEN: port 80 does not redirect to HTTPS in production."
    }
    precondition {
      condition     = length(local.matrix_wrongly_matched) == 0
      error_message = "PROMISE BROKEN: the WAF's body pattern ${local.matrix_body_pattern} is wrong for Content-Length ${join(", ", local.matrix_wrongly_matched)} (the limit is ${local.matrix_limit} bytes)."
    }
  }
}
