Feature: An exception is closed only when it can name nothing but the deleted resource
  Names are not unique, and one rule may cover several kinds of resource: a bucket and a
  function may both be called "logs". An exception is closed only when its kind agrees
  with the deleted resource's, and no live resource of that name (or, when the exception
  does not say its kind, of any kind the rule covers) could be what it names. An ARN names
  its kind of resource itself.

  Scenario: A bucket's exception is not closed when a function of the same name is deleted
    Given the rule "logs-rule" over buckets and functions whose exceptions name one resource by its ID
    And account 111122223333 has an exception for "logs" of a bucket under "logs-rule" in eu-west-1
    And the inventory shows the function "logs" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the function "logs" in account 111122223333, eu-west-1 is reported for "logs-rule"
    Then the outcome is "no-match"
    And the exception for "logs" of account 111122223333 under "logs-rule" is still open

  Scenario: A function's exception is closed when that function is deleted
    Given the rule "logs-rule" over buckets and functions whose exceptions name one resource by its ID
    And account 111122223333 has an exception for "logs" of a function under "logs-rule" in eu-west-1
    And the inventory shows the function "logs" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the function "logs" in account 111122223333, eu-west-1 is reported for "logs-rule"
    Then the outcome is "closed"
    And the exception for "logs" of account 111122223333 under "logs-rule" is closed

  Scenario: An exception that does not say its kind stays open while a namesake of another kind lives
    Given the rule "logs-rule" over buckets and functions whose exceptions name one resource by its ID
    And account 111122223333 has an exception for "logs" under "logs-rule" in eu-west-1
    And the inventory shows the function "logs" of account 111122223333 in eu-west-1 as deleted
    And the inventory shows the bucket "logs" of account 111122223333 in eu-west-1 as still existing
    When the deletion of the function "logs" in account 111122223333, eu-west-1 is reported for "logs-rule"
    Then the outcome is "not-confirmed"
    And the reason names "AWS::S3::Bucket 'logs'"
    And the exception table is unchanged

  Scenario: An exception that does not say its kind closes when no namesake of another kind lives
    Given the rule "logs-rule" over buckets and functions whose exceptions name one resource by its ID
    And account 111122223333 has an exception for "logs" under "logs-rule" in eu-west-1
    And the inventory shows the function "logs" of account 111122223333 in eu-west-1 as deleted
    And the inventory shows the bucket "logs" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the function "logs" in account 111122223333, eu-west-1 is reported for "logs-rule"
    Then the outcome is "closed"

  Scenario: A rule that does not cover the deleted kind closes nothing
    Given the rule "buckets-rule" over buckets whose exceptions name one resource by its ID
    And account 111122223333 has an exception for "logs" under "buckets-rule" in eu-west-1
    And the inventory shows the function "logs" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the function "logs" in account 111122223333, eu-west-1 is reported for "buckets-rule"
    Then the outcome is "no-match"
    And the exception for "logs" of account 111122223333 under "buckets-rule" is still open

  Scenario Outline: An exception of another kind than the deleted resource stays open
    Given the rule "any-rule" whose exceptions name one resource by its ID
    And account 111122223333 has an exception for "sg-1" of a <recorded> under "any-rule" in eu-west-1
    And the inventory shows the security group "sg-1" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the security group "sg-1" in account 111122223333, eu-west-1 is reported for "any-rule"
    Then the outcome is "<outcome>"

    Examples:
      | recorded       | outcome  |
      | security group | closed   |
      | volume         | no-match |

  Scenario: A user's ARN does not name a role of the same name
    Given the rule "iam-rule" whose exceptions name one resource by its ARN
    And account 111122223333 has an exception for "arn:aws:iam::111122223333:user/deploy" under "iam-rule" in eu-west-1
    And the inventory shows the role "AROADEPLOY" named "deploy" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the role "AROADEPLOY" in account 111122223333, eu-west-1 is reported for "iam-rule"
    Then the outcome is "no-match"
    And the exception for "arn:aws:iam::111122223333:user/deploy" of account 111122223333 under "iam-rule" is still open

  Scenario: A role's ARN names the role of that name
    Given the rule "iam-rule" whose exceptions name one resource by its ARN
    And account 111122223333 has an exception for "arn:aws:iam::111122223333:role/deploy" under "iam-rule" in eu-west-1
    And the inventory shows the role "AROADEPLOY" named "deploy" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the role "AROADEPLOY" in account 111122223333, eu-west-1 is reported for "iam-rule"
    Then the outcome is "closed"

  Scenario Outline: A security group's ARN carries its ID, never its name
    Given the rule "sg-arn-rule" whose exceptions name one resource by its ARN
    And account 111122223333 has an exception for "<key>" under "sg-arn-rule" in eu-west-1
    And the inventory shows the security group "sg-0abc" named "web" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the security group "sg-0abc" in account 111122223333, eu-west-1 is reported for "sg-arn-rule"
    Then the outcome is "<outcome>"

    Examples:
      | key                                                        | outcome  |
      | arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0abc  | closed   |
      | arn:aws:ec2:eu-west-1:111122223333:security-group/web      | no-match |
      | arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0ab   | no-match |

  Scenario Outline: A security group named by its name stays open while a namesake lives
    Given the rule "sg-rule" whose exceptions name one resource by its ID
    And account 111122223333 has an exception for "web" under "sg-rule" in eu-west-1
    And the inventory shows the security group "sg-2" named "web" of account 111122223333 in eu-west-1 as deleted
    And the inventory shows the security group "sg-1" named "<other>" of account 111122223333 in eu-west-1 as still existing
    When the deletion of the security group "sg-2" in account 111122223333, eu-west-1 is reported for "sg-rule"
    Then the outcome is "<outcome>"

    Examples:
      | other  | outcome       |
      | web    | not-confirmed |
      | web-1  | closed        |
      | we     | closed        |

  Scenario Outline: A load balancer's ARN is its ID, so the ARN closes its exception
    Given the rule "lb-rule" whose exceptions name one resource by its ARN
    And account 111122223333 has an exception for "<key>" under "lb-rule" in eu-west-1
    And the inventory shows the load balancer "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/50dc6c495c0c9188" named "web" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the load balancer "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/50dc6c495c0c9188" in account 111122223333, eu-west-1 is reported for "lb-rule"
    Then the outcome is "<outcome>"

    Examples:
      | key                                                                                          | outcome  |
      | arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/50dc6c495c0c9188    | closed   |
      | arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/50dc6c495c0c918     | no-match |
      | arn:aws:elasticloadbalancing:eu-west-1:444455556666:loadbalancer/app/web/50dc6c495c0c9188    | no-match |

  Scenario: A group under a rule of several kinds closes without claiming one kind for itself
    Given the rule "data-rule" over buckets and functions whose exceptions name a group of resources by their IDs
    And account 111122223333 has an exception for "fn-1,bk-1" under "data-rule" in eu-west-1
    And the inventory shows the function "fn-1" of account 111122223333 in eu-west-1 as deleted
    And the inventory shows the bucket "bk-1" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the function "fn-1" in account 111122223333, eu-west-1 is reported for "data-rule"
    And the deletion of the bucket "bk-1" in account 111122223333, eu-west-1 is reported for "data-rule"
    Then the outcomes are "member-deleted, closed"
    And the exception for "fn-1,bk-1" of account 111122223333 under "data-rule" is closed
    And the exception for "fn-1,bk-1" of account 111122223333 under "data-rule" records no kind

  Scenario: A group under a rule of one kind records that kind when it closes
    Given the rule "ebs-rule" over volumes whose exceptions name a group of resources by their IDs
    And account 111122223333 has an exception for "vol-1,vol-2" under "ebs-rule" in eu-west-1
    And the inventory shows the volumes "vol-1,vol-2" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the volume "vol-1" in account 111122223333, eu-west-1 is reported for "ebs-rule"
    Then the outcome is "closed"
    And the exception for "vol-1,vol-2" of account 111122223333 under "ebs-rule" records the kind volume

  Scenario: A simple exception records the kind of the resource whose deletion closed it
    Given the rule "any-rule" whose exceptions name one resource by its ID
    And account 111122223333 has an exception for "sg-1" under "any-rule" in eu-west-1
    And the inventory shows the security group "sg-1" of account 111122223333 in eu-west-1 as deleted
    When the deletion of the security group "sg-1" in account 111122223333, eu-west-1 is reported for "any-rule"
    Then the outcome is "closed"
    And the exception for "sg-1" of account 111122223333 under "any-rule" records the kind security group
